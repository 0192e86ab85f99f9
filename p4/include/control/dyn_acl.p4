/* stateful_edge — dynamic ACL: pinholes learned by the control plane.
 *
 * Every IPv4 packet of a known VM looks up its flow (key in canonical order, VM side first), so
 * outbound packets keep a pinhole's idle timer fresh too. An outbound UDP packet that finds no
 * entry emits a pinhole_t digest; the plugin answers by inserting a pinhole_allow entry with an
 * idle timeout, and deletes it when the switch reports it idle. */
#ifndef __STATEFUL_EDGE_DYN_ACL__
#define __STATEFUL_EDGE_DYN_ACL__

control DynAcl(inout headers_t hdr, inout local_metadata_t meta) {

    @name("dyn_acl_counter")
    direct_counter(CounterType.packets_and_bytes) dyn_acl_counter;

    @name("pinhole_allow")
    action pinhole_allow() {
        meta.dyn_allow = true;
        dyn_acl_counter.count();
    }

    @name("pinhole_deny")
    action pinhole_deny() {
        meta.dyn_deny = true;
        dyn_acl_counter.count();
    }

    @name("pinhole_miss")
    action pinhole_miss() {
    }

    @name("dyn_acl")
    @migrate_table("vm_id")
    @migrate_learn("pinhole_t", "pinhole_allow")
    table dyn_acl {
        key = {
            meta.vm_id           : exact @name("vm_id");
            meta.flow.vm_addr     : exact @name("vm_addr");
            meta.flow.remote_addr : exact @name("remote_addr");
            meta.flow.vm_port     : exact @name("vm_port");
            meta.flow.remote_port : exact @name("remote_port");
            meta.flow.protocol    : exact @name("protocol");
        }
        actions = {
            pinhole_allow;
            pinhole_deny;
            @defaultonly pinhole_miss;
        }
        default_action = pinhole_miss();
        counters = dyn_acl_counter;
        support_timeout = true;
        size = DYN_ACL_SIZE;
    }

    apply {
        if (!dyn_acl.apply().hit) {
            if (meta.dir == DIR_OUT && hdr.udp.isValid()) {
                meta.pinhole.vm_id = meta.vm_id;
                meta.pinhole.vm_addr = meta.flow.vm_addr;
                meta.pinhole.remote_addr = meta.flow.remote_addr;
                meta.pinhole.vm_port = meta.flow.vm_port;
                meta.pinhole.remote_port = meta.flow.remote_port;
                meta.pinhole.protocol = meta.flow.protocol;
                digest<pinhole_t>(1, meta.pinhole);
            }
        }
    }
}

#endif
