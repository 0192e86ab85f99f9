/* stateful_edge — the per-VM migration control entry.
 *
 * The controller tells the data plane the migration phase of a VM through one entry of
 * vm_migration (DESIGN.md §4 "migration control"). No entry means normal operation.
 *   track  — mark the VM's changed slots dirty, log them in the change log of tracker `tracker`
 *            (conntrack.p4) and push a ct_delta_t digest for each change;
 *   freeze — the source during the pause: drop the VM's packets so its state stops changing;
 *   staged — the destination before activation: state is installed but not yet live;
 *   active — the VM's state is live here. Packets are processed only when active = 1 and
 *            freeze = 0 and staged = 0; otherwise they are dropped as DROP_VM_INACTIVE. */
#ifndef __STATEFUL_EDGE_VM_CONTROL__
#define __STATEFUL_EDGE_VM_CONTROL__

control VmControl(inout local_metadata_t meta) {

    @name("set_migration")
    action set_migration(bit<1> track, bit<1> freeze, bit<1> staged, bit<1> active,
                         bit<8> tracker) {
        meta.mig_track = track;
        meta.mig_tracker = tracker;
        meta.mig_freeze = freeze;
        meta.mig_staged = staged;
        meta.mig_active = active;
    }

    @name("no_migration")
    action no_migration() {
        meta.mig_track = 0;
        meta.mig_tracker = NO_TRACKER;
        meta.mig_freeze = 0;
        meta.mig_staged = 0;
        meta.mig_active = 1;
    }

    @name("vm_migration")
    @migrate_control("vm_id", "set_migration")
    table vm_migration {
        key = {
            meta.vm_id : exact @name("vm_id");
        }
        actions = {
            set_migration;
            @defaultonly no_migration;
        }
        default_action = no_migration();
        size = MIGRATION_TABLE_SIZE;
    }

    apply {
        vm_migration.apply();
        if (meta.mig_active == 0 || meta.mig_freeze == 1 || meta.mig_staged == 1) {
            meta.drop_reason = DROP_VM_INACTIVE;
        }
    }
}

#endif
