// vxmesh's native helpers: what Node cannot do by itself.
//  - flock(fd, exclusive, nonBlocking): a lock held as long as the fd is open (dies with the process).
//  - socketInNetns(nsPath, kind, address, port): a socket created and bound inside another network
//    namespace. The calling thread enters the namespace, makes the socket and returns to its own
//    namespace; the socket stays in the namespace it was created in.
//  - addClsactQdisc(nsPath, ifname): a clsact qdisc on an interface inside another network namespace,
//    by one rtnetlink request (no tc process). Meant for a device that is still down: adding one to
//    an up device deactivates its transmit queues for an RCU grace period, dropping what it sends.
//  - attachFlowHashTcx(nsPath, ifname) / flowHashTcxAttached(nsPath, ifname): the flow-hash program
//    (src/kernel/rx-steering.ts FLOW_HASH_PROG: bpf_set_hash_invalid, then TC_ACT_OK) on the
//    interface's tcx egress (Linux 6.6+): no qdisc, and it stays on the interface when the interface
//    moves to another namespace (a qdisc does not).
// Plain Node-API (node_api.h), no node-addon-api.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "vxmesh_native: " #call " failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char* what) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char* code = strerrorname_np(err);
  napi_value error, message, code_value, errno_value;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, code ? code : "EUNKNOWN", NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, message, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "code", code_value);
  napi_throw(env, error);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char* buf, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  return len + 1 >= size ? -1 : 0;  // refuse silently truncated input
}

// flock(fd: number, exclusive: boolean, nonBlocking: boolean): boolean  (false = would block)
static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  bool exclusive, non_blocking;
  if (argc != 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_bool(env, argv[1], &exclusive) != napi_ok ||
      napi_get_value_bool(env, argv[2], &non_blocking) != napi_ok) {
    napi_throw_type_error(env, NULL, "flock(fd: number, exclusive: boolean, nonBlocking: boolean)");
    return NULL;
  }
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (non_blocking ? LOCK_NB : 0);
  int rc;
  do rc = flock(fd, op);
  while (rc < 0 && errno == EINTR);
  napi_value result;
  if (rc < 0) {
    if (errno == EWOULDBLOCK) {
      CHECK(napi_get_boolean(env, false, &result));
      return result;
    }
    return throw_errno(env, errno, "flock");
  }
  CHECK(napi_get_boolean(env, true, &result));
  return result;
}

// Makes and binds the socket in the current namespace; returns the fd or -errno (with *step set).
static int make_socket(int family, int type, const char* address, int port, const char** step) {
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } sa;
  memset(&sa, 0, sizeof sa);
  socklen_t sa_len;
  if (family == AF_INET) {
    sa.v4.sin_family = AF_INET;
    sa.v4.sin_port = htons(port);
    if (inet_pton(AF_INET, address, &sa.v4.sin_addr) != 1) return *step = "parse address", -EINVAL;
    sa_len = sizeof sa.v4;
  } else {
    sa.v6.sin6_family = AF_INET6;
    sa.v6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, address, &sa.v6.sin6_addr) != 1) return *step = "parse address", -EINVAL;
    sa_len = sizeof sa.v6;
  }
  int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return *step = "socket", -errno;
  int one = 1;
  if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return *step = "setsockopt SO_REUSEADDR", -err;
  }
  if (bind(fd, (struct sockaddr*)&sa, sa_len) < 0) {
    int err = errno;
    close(fd);
    return *step = "bind", -err;
  }
  if (type == SOCK_STREAM && listen(fd, 128) < 0) {
    int err = errno;
    close(fd);
    return *step = "listen", -err;
  }
  return fd;
}

// Moves the calling thread (the JS thread or a pool thread) into the network namespace at ns_path.
// Returns an fd of the thread's own namespace (for leave_netns), or -errno with *step set.
static int enter_netns_at(const char* ns_path, const char** step) {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return *step = "open /proc/thread-self/ns/net", -errno;
  int target = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(home);
    return *step = "open", -err;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    close(target);
    close(home);
    return *step = "setns", -err;
  }
  close(target);
  return home;
}

// enter_netns_at on the JS thread: -1 with a JS error thrown ("open PATH: ...", "setns PATH: ...").
static int enter_netns(napi_env env, const char* ns_path) {
  const char* step = "";
  int home = enter_netns_at(ns_path, &step);
  if (home >= 0) return home;
  char what[4200];
  snprintf(what, sizeof what, "%s %s", step, ns_path);
  return throw_errno(env, -home, what), -1;
}

static void leave_netns(int home, const char* who) {
  if (setns(home, CLONE_NEWNET) < 0) {
    // The thread would go on in a foreign namespace (a pool thread would resolve names there):
    // nothing after this could be trusted.
    napi_fatal_error(who, NAPI_AUTO_LENGTH, "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
  }
  close(home);
}

// socketInNetns(nsPath: string, kind: 'udp4'|'udp6'|'tcp4'|'tcp6', address: string, port: number): number
static napi_value js_socket_in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char ns_path[4096], kind[8], address[64];
  int32_t port;
  if (argc != 4 || get_string(env, argv[0], ns_path, sizeof ns_path) || get_string(env, argv[1], kind, sizeof kind) ||
      get_string(env, argv[2], address, sizeof address) || napi_get_value_int32(env, argv[3], &port) != napi_ok) {
    napi_throw_type_error(env, NULL, "socketInNetns(nsPath: string, kind: string, address: string, port: number)");
    return NULL;
  }
  int family, type;
  if (!strcmp(kind, "udp4")) family = AF_INET, type = SOCK_DGRAM;
  else if (!strcmp(kind, "udp6")) family = AF_INET6, type = SOCK_DGRAM;
  else if (!strcmp(kind, "tcp4")) family = AF_INET, type = SOCK_STREAM;
  else if (!strcmp(kind, "tcp6")) family = AF_INET6, type = SOCK_STREAM;
  else {
    napi_throw_type_error(env, NULL, "socketInNetns: kind must be udp4, udp6, tcp4 or tcp6");
    return NULL;
  }
  if (port < 0 || port > 65535) {
    napi_throw_range_error(env, NULL, "socketInNetns: port must be 0-65535");
    return NULL;
  }

  int home = enter_netns(env, ns_path);
  if (home < 0) return NULL;
  const char* step = "";
  int fd = make_socket(family, type, address, port, &step);
  leave_netns(home, "vxmesh_native.socketInNetns");
  if (fd < 0) {
    char what[4300];
    snprintf(what, sizeof what, "%s %s %s:%d in %s", step, kind, address, port, ns_path);
    return throw_errno(env, -fd, what);
  }
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

// Adds a clsact qdisc to ifname in the current namespace by one RTM_NEWQDISC request (as
// `tc qdisc add dev IFNAME clsact`). Returns 1 added, 0 already there, or -errno (with *step set).
static int add_clsact(const char* ifname, const char** step) {
  unsigned ifindex = if_nametoindex(ifname);
  if (!ifindex) return *step = "find interface", -errno;
  struct {
    struct nlmsghdr nh;
    struct tcmsg tc;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.tc);
  req.nh.nlmsg_type = RTM_NEWQDISC;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.nh.nlmsg_seq = 1;
  req.tc.tcm_family = AF_UNSPEC;
  req.tc.tcm_ifindex = (int)ifindex;
  req.tc.tcm_parent = TC_H_CLSACT;
  req.tc.tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
  struct rtattr* kind = (struct rtattr*)((char*)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
  kind->rta_type = TCA_KIND;
  kind->rta_len = RTA_LENGTH(sizeof "clsact");
  memcpy(RTA_DATA(kind), "clsact", sizeof "clsact");
  req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(kind->rta_len);

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return *step = "socket netlink", -errno;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr*)&kernel, sizeof kernel) < 0) {
    int err = errno;
    close(fd);
    return *step = "send RTM_NEWQDISC", -err;
  }
  // The acknowledgement: an NLMSG_ERROR whose error is 0 on success.
  long buf[1024];
  ssize_t n;
  do n = recv(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(fd);
  if (n < 0) return *step = "receive the RTM_NEWQDISC acknowledgement", -err;
  struct nlmsghdr* h = (struct nlmsghdr*)buf;
  if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
    return *step = "read the RTM_NEWQDISC acknowledgement", -EPROTO;
  }
  int rc = ((struct nlmsgerr*)NLMSG_DATA(h))->error;
  if (rc == -EEXIST) return 0;
  if (rc < 0) return *step = "RTM_NEWQDISC clsact", rc;
  return 1;
}

// addClsactQdisc(nsPath: string, ifname: string): boolean  (false: the interface had one already)
static napi_value js_add_clsact_qdisc(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char ns_path[4096], ifname[IF_NAMESIZE];
  if (argc != 2 || get_string(env, argv[0], ns_path, sizeof ns_path) || get_string(env, argv[1], ifname, sizeof ifname)) {
    napi_throw_type_error(env, NULL, "addClsactQdisc(nsPath: string, ifname: string) (ifname at most 15 characters)");
    return NULL;
  }
  int home = enter_netns(env, ns_path);
  if (home < 0) return NULL;
  const char* step = "";
  int rc = add_clsact(ifname, &step);
  leave_netns(home, "vxmesh_native.addClsactQdisc");
  if (rc < 0) {
    char what[4300];
    snprintf(what, sizeof what, "%s %s in %s", step, ifname, ns_path);
    return throw_errno(env, -rc, what);
  }
  napi_value result;
  CHECK(napi_get_boolean(env, rc == 1, &result));
  return result;
}

// enum bpf_attach_type's BPF_TCX_EGRESS (Linux 6.6): the build host's headers may predate it.
#define VX_BPF_TCX_EGRESS 47
#define FLOW_HASH_PROG_NAME "vxmesh_symhash"

static long sys_bpf(int cmd, union bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof *attr); }

// Whether a program named FLOW_HASH_PROG_NAME is on ifindex's tcx egress: 1 yes, 0 no, -errno.
static int tcx_has_flow_hash(unsigned ifindex, const char** step) {
  __u32 ids[64];
  union bpf_attr q;
  memset(&q, 0, sizeof q);
  q.query.target_fd = ifindex;
  q.query.attach_type = VX_BPF_TCX_EGRESS;
  q.query.prog_ids = (unsigned long)ids;
  q.query.prog_cnt = sizeof ids / sizeof ids[0];
  if (sys_bpf(BPF_PROG_QUERY, &q) < 0) return *step = "query the tcx egress programs", -errno;
  for (__u32 i = 0; i < q.query.prog_cnt; i++) {
    union bpf_attr by_id;
    memset(&by_id, 0, sizeof by_id);
    by_id.prog_id = ids[i];
    int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &by_id);
    if (fd < 0) continue;  // detached meanwhile
    struct bpf_prog_info info;
    memset(&info, 0, sizeof info);
    union bpf_attr get;
    memset(&get, 0, sizeof get);
    get.info.bpf_fd = fd;
    get.info.info_len = sizeof info;
    get.info.info = (unsigned long)&info;
    long rc = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &get);
    close(fd);
    if (rc == 0 && !strncmp(info.name, FLOW_HASH_PROG_NAME, sizeof info.name)) return 1;
  }
  return 0;
}

// Loads the flow-hash program and attaches it to ifname's tcx egress unless it is there already.
// Returns 1 attached, 0 already there, or -errno (with *step set).
static int tcx_attach_flow_hash(const char* ifname, const char** step) {
  unsigned ifindex = if_nametoindex(ifname);
  if (!ifindex) return *step = "find interface", -errno;
  int has = tcx_has_flow_hash(ifindex, step);
  if (has != 0) return has < 0 ? has : 0;
  struct bpf_insn insns[] = {
      {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_set_hash_invalid},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},  // TC_ACT_OK
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  load.expected_attach_type = VX_BPF_TCX_EGRESS;
  load.insns = (unsigned long)insns;
  load.insn_cnt = sizeof insns / sizeof insns[0];
  load.license = (unsigned long)"GPL";
  memcpy(load.prog_name, FLOW_HASH_PROG_NAME, sizeof FLOW_HASH_PROG_NAME);
  int prog = sys_bpf(BPF_PROG_LOAD, &load);
  if (prog < 0) return *step = "load the flow-hash program (tcx needs Linux 6.6)", -errno;
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = ifindex;
  attach.attach_bpf_fd = prog;
  attach.attach_type = VX_BPF_TCX_EGRESS;
  long rc = sys_bpf(BPF_PROG_ATTACH, &attach);
  int err = errno;
  close(prog);  // the attachment holds the program
  if (rc < 0) return *step = "attach to tcx egress", -err;
  return 1;
}

// Runs on a libuv pool thread: attaching waits for an RCU grace period (~16 ms here), too long to
// hold the JS thread. The pool thread enters the namespace and must get back before it runs anything
// else (a pool thread left in a workload's namespace would resolve names there).
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  bool attach;
  char ns_path[4096];
  char ifname[IF_NAMESIZE];
  int rc;
  const char* step;
} tcx_job;

static void tcx_execute(napi_env env, void* data) {
  tcx_job* job = data;
  int home = enter_netns_at(job->ns_path, &job->step);
  if (home < 0) {
    job->rc = home, job->step = "enter the namespace for";
    return;
  }
  if (job->attach) {
    job->rc = tcx_attach_flow_hash(job->ifname, &job->step);
  } else {
    unsigned ifindex = if_nametoindex(job->ifname);
    job->rc = ifindex ? tcx_has_flow_hash(ifindex, &job->step) : (job->step = "find interface", -errno);
  }
  leave_netns(home, job->attach ? "vxmesh_native.attachFlowHashTcx" : "vxmesh_native.flowHashTcxAttached");
}

static void tcx_complete(napi_env env, napi_status status, void* data) {
  tcx_job* job = data;
  napi_value result;
  if (status == napi_ok && job->rc >= 0) {
    napi_get_boolean(env, job->rc == 1, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    int err = status == napi_ok ? -job->rc : ECANCELED;
    char msg[4600];
    snprintf(msg, sizeof msg, "%s %s in %s: %s", job->step ? job->step : "tcx", job->ifname, job->ns_path, strerror(err));
    const char* code = strerrorname_np(err);
    napi_value error, message, code_value;
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
    napi_create_string_utf8(env, code ? code : "EUNKNOWN", NAPI_AUTO_LENGTH, &code_value);
    napi_create_error(env, code_value, message, &error);
    napi_set_named_property(env, error, "code", code_value);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

// attachFlowHashTcx(nsPath, ifname): Promise<boolean> (false: it was there)
// flowHashTcxAttached(nsPath, ifname): Promise<boolean>
static napi_value tcx_call(napi_env env, napi_callback_info info, bool attach) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  tcx_job* job = calloc(1, sizeof *job);
  if (!job) return throw_errno(env, ENOMEM, "tcx job");
  job->attach = attach;
  if (argc != 2 || get_string(env, argv[0], job->ns_path, sizeof job->ns_path) || get_string(env, argv[1], job->ifname, sizeof job->ifname)) {
    free(job);
    napi_throw_type_error(env, NULL, "(nsPath: string, ifname: string) (ifname at most 15 characters)");
    return NULL;
  }
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, attach ? "attachFlowHashTcx" : "flowHashTcxAttached", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, tcx_execute, tcx_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "vxmesh_native: cannot queue the tcx work");
    return NULL;
  }
  return promise;
}

static napi_value js_attach_flow_hash_tcx(napi_env env, napi_callback_info info) { return tcx_call(env, info, true); }
static napi_value js_flow_hash_tcx_attached(napi_env env, napi_callback_info info) { return tcx_call(env, info, false); }

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "flock", NAPI_AUTO_LENGTH, js_flock, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "flock", fn) != napi_ok ||
      napi_create_function(env, "socketInNetns", NAPI_AUTO_LENGTH, js_socket_in_netns, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "socketInNetns", fn) != napi_ok ||
      napi_create_function(env, "addClsactQdisc", NAPI_AUTO_LENGTH, js_add_clsact_qdisc, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "addClsactQdisc", fn) != napi_ok ||
      napi_create_function(env, "attachFlowHashTcx", NAPI_AUTO_LENGTH, js_attach_flow_hash_tcx, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "attachFlowHashTcx", fn) != napi_ok ||
      napi_create_function(env, "flowHashTcxAttached", NAPI_AUTO_LENGTH, js_flow_hash_tcx_attached, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "flowHashTcxAttached", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
