/* stateful_edge — static (operator-written) allow/deny rules, looked up for both directions with
 * the flow key in canonical order. Configuration state: not migrated by carryover.
 *   static_deny      — drops the flow's packets both ways, connections the VM opens included;
 *   static_allow     — admits inbound packets; for TCP only a SYN, which opens a tracked
 *                      connection (the rest of it passes because it is tracked);
 *   static_allow_any — admits inbound packets, TCP segments no tracked connection claims too
 *                      (a bare ACK with no connection); segments of a tracked connection are
 *                      still checked by the tracker. */
#ifndef __STATEFUL_EDGE_STATIC_ACL__
#define __STATEFUL_EDGE_STATIC_ACL__

control StaticAcl(inout local_metadata_t meta) {

    @name("static_allow")
    action static_allow() {
        meta.static_allow = true;
    }

    @name("static_allow_any")
    action static_allow_any() {
        meta.static_allow = true;
        meta.static_any = true;
    }

    @name("static_deny")
    action static_deny() {
        meta.static_deny = true;
    }

    @name("static_miss")
    action static_miss() {
    }

    @name("static_acl")
    table static_acl {
        key = {
            meta.flow.vm_addr     : ternary @name("vm_addr");
            meta.flow.remote_addr : ternary @name("remote_addr");
            meta.flow.vm_port     : ternary @name("vm_port");
            meta.flow.protocol    : ternary @name("protocol");
        }
        actions = {
            static_allow;
            static_allow_any;
            static_deny;
            @defaultonly static_miss;
        }
        default_action = static_miss();
        size = STATIC_ACL_SIZE;
    }

    apply {
        static_acl.apply();
    }
}

#endif
