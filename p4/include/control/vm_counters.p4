/* stateful_edge — per-VM usage counters, indexed by the switch-local VM id (cumulative data
 * that migrates with the VM: the destination adds the source's counts to the VM's cell). */
#ifndef __STATEFUL_EDGE_VM_COUNTERS__
#define __STATEFUL_EDGE_VM_COUNTERS__

control VmCounters(inout local_metadata_t meta) {

    @name("vm_tx")
    @migrate_counter("vm_id")
    counter(MAX_VMS, CounterType.packets_and_bytes) vm_tx;

    @name("vm_rx")
    @migrate_counter("vm_id")
    counter(MAX_VMS, CounterType.packets_and_bytes) vm_rx;

    apply {
        if (meta.dir == DIR_OUT) {
            vm_tx.count((bit<32>) meta.vm_id);
        } else {
            vm_rx.count((bit<32>) meta.vm_id);
        }
    }
}

#endif
