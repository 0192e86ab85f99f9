/* stateful_edge — static (operator-written) allow/deny rules for traffic towards VMs.
 * Configuration state: not migrated by carryover. */
#ifndef __STATEFUL_EDGE_STATIC_ACL__
#define __STATEFUL_EDGE_STATIC_ACL__

control StaticAcl(inout local_metadata_t meta) {

    @name("static_allow")
    action static_allow() {
        meta.static_allow = true;
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
