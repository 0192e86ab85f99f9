/* stateful_edge — forwarding between VM-facing ports and the uplink.
 *
 * port_role says what a port is; vm_table maps a VM's address to its switch-local id and port.
 * A packet from a VM port must come from an address of a VM on that port (no spoofing) and goes
 * to the port's uplink; a packet from an uplink goes to the port of the VM it is addressed to.
 * A packet whose output port would be the CPU port (a port role or a VM placed on port 255: a
 * configuration error) is dropped as DROP_CPU_PORT; BMv2 would otherwise hand it to the
 * controller with its first bytes read as packet_in. */
#ifndef __STATEFUL_EDGE_FORWARDING__
#define __STATEFUL_EDGE_FORWARDING__

control Forwarding(inout headers_t hdr, inout local_metadata_t meta) {

    @name("vm_port_role")
    action vm_port_role(bit<9> uplink_port) {
        meta.port_known = true;
        meta.dir = DIR_OUT;
        meta.out_port = uplink_port;
    }

    @name("uplink_role")
    action uplink_role() {
        meta.port_known = true;
        meta.dir = DIR_IN;
    }

    @name("unknown_port")
    action unknown_port() {
        meta.port_known = false;
    }

    @name("port_role")
    table port_role {
        key = {
            meta.in_port : exact @name("port");
        }
        actions = {
            vm_port_role;
            uplink_role;
            @defaultonly unknown_port;
        }
        default_action = unknown_port();
        size = PORT_TABLE_SIZE;
    }

    @name("set_vm")
    action set_vm(bit<16> vm_id, bit<9> port) {
        meta.vm_known = true;
        meta.vm_id = vm_id;
        meta.vm_port = port;
    }

    @name("unknown_vm")
    action unknown_vm() {
        meta.vm_known = false;
    }

    /* The plugin resolves "which switch-local id does this VM have" through this table. */
    @name("vm_table")
    @migrate_vm_map("vm_addr", "set_vm", "vm_id")
    table vm_table {
        key = {
            meta.vm_addr : exact @name("vm_addr");
        }
        actions = {
            set_vm;
            @defaultonly unknown_vm;
        }
        default_action = unknown_vm();
        size = VM_TABLE_SIZE;
    }

    apply {
        port_role.apply();
        if (!meta.port_known) {
            meta.drop_reason = DROP_UNKNOWN_PORT;
        } else {
            if (meta.dir == DIR_OUT) {
                meta.vm_addr = hdr.ipv4.src_addr;
            } else {
                meta.vm_addr = hdr.ipv4.dst_addr;
            }
            vm_table.apply();
            if (!meta.vm_known) {
                meta.drop_reason = DROP_UNKNOWN_VM;
            } else if (meta.dir == DIR_OUT) {
                if (meta.vm_port != meta.in_port) {
                    meta.drop_reason = DROP_UNKNOWN_VM;
                }
            } else {
                meta.out_port = meta.vm_port;
            }
            if (meta.drop_reason == DROP_NONE && meta.out_port == CPU_PORT) {
                meta.drop_reason = DROP_CPU_PORT;
            }
        }
    }
}

#endif
