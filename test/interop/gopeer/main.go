// gopeer: a real hashicorp/memberlist node driven over stdin/stdout, used by the
// vxmesh interop tests and benchmarks. Events and replies are JSON lines on stdout;
// commands are text lines on stdin.
//
// Commands:
//
//	members                 -> {"ev":"members","members":[...]}
//	broadcast TEXT          -> queue a user broadcast (gossiped via GetBroadcasts)
//	send NODE TEXT          -> SendBestEffort (UDP user message)
//	reliable NODE TEXT      -> SendReliable (TCP user message)
//	join HOST:PORT[,..]     -> Join
//	leave                   -> Leave(2s)
//	shutdown                -> Shutdown and exit
//	stats                   -> {"ev":"stats","health":N}
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	metrics "github.com/armon/go-metrics"
	"github.com/hashicorp/memberlist"
)

// byteSink sums memberlist's "udp.sent"/"tcp.sent" counters (bytes written to the
// network, after compression and encryption) for the benchmarks.
type byteSink struct {
	sync.Mutex
	udp, tcp float64
}

func (s *byteSink) IncrCounter(key []string, val float32) {
	if len(key) < 2 || key[len(key)-1] != "sent" {
		return
	}
	s.Lock()
	defer s.Unlock()
	switch key[len(key)-2] {
	case "udp":
		s.udp += float64(val)
	case "tcp":
		s.tcp += float64(val)
	}
}
func (s *byteSink) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	s.IncrCounter(key, val)
}
func (s *byteSink) SetGauge(key []string, val float32)                                    {}
func (s *byteSink) SetGaugeWithLabels(key []string, val float32, labels []metrics.Label)  {}
func (s *byteSink) EmitKey(key []string, val float32)                                     {}
func (s *byteSink) AddSample(key []string, val float32)                                   {}
func (s *byteSink) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {}

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]interface{}) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

func nodeJSON(n *memberlist.Node) map[string]interface{} {
	return map[string]interface{}{
		"name": n.Name, "addr": n.Addr.String(), "port": n.Port,
		"state": int(n.State), "meta": string(n.Meta),
	}
}

type simpleBroadcast []byte

func (b simpleBroadcast) Invalidates(other memberlist.Broadcast) bool { return false }
func (b simpleBroadcast) Message() []byte                             { return []byte(b) }
func (b simpleBroadcast) Finished()                                   {}

type delegate struct {
	queue *memberlist.TransmitLimitedQueue
	meta  []byte
}

func (d *delegate) NodeMeta(limit int) []byte { return d.meta }
func (d *delegate) NotifyMsg(msg []byte) {
	emit(map[string]interface{}{"ev": "msg", "data": string(msg)})
}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}
func (d *delegate) LocalState(join bool) []byte            { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool) {}

type events struct{}

func (events) NotifyJoin(n *memberlist.Node) {
	emit(map[string]interface{}{"ev": "join", "node": nodeJSON(n)})
}
func (events) NotifyLeave(n *memberlist.Node) {
	emit(map[string]interface{}{"ev": "leave", "node": nodeJSON(n)})
}
func (events) NotifyUpdate(n *memberlist.Node) {
	emit(map[string]interface{}{"ev": "update", "node": nodeJSON(n)})
}

func main() {
	name := flag.String("name", "gopeer", "node name")
	bind := flag.String("bind", "127.0.0.1", "bind address")
	port := flag.Int("port", 7946, "bind port (UDP and TCP)")
	join := flag.String("join", "", "comma separated host:port list to join")
	key := flag.String("key", "", "base64 AES key (16/24/32 bytes); empty = no encryption")
	fast := flag.Bool("fast", false, "fast timing: probe 200ms, probe timeout 100ms, gossip 50ms")
	probeMs := flag.Int("probe-ms", 0, "ProbeInterval in ms (0 = keep)")
	probeTimeoutMs := flag.Int("probe-timeout-ms", 0, "ProbeTimeout in ms (0 = keep)")
	gossipMs := flag.Int("gossip-ms", 0, "GossipInterval in ms (0 = keep)")
	suspicionMult := flag.Int("suspicion-mult", 0, "SuspicionMult (0 = keep)")
	broadcast := flag.String("broadcast", "", "user broadcast to queue after start")
	verbose := flag.Bool("v", false, "memberlist logs on stderr")
	flag.Parse()

	conf := memberlist.DefaultLANConfig()
	conf.Name = *name
	conf.BindAddr = *bind
	conf.BindPort = *port
	conf.AdvertiseAddr = *bind
	conf.AdvertisePort = *port
	if *fast {
		conf.ProbeInterval = 200 * time.Millisecond
		conf.ProbeTimeout = 100 * time.Millisecond
		conf.GossipInterval = 50 * time.Millisecond
	}
	if *probeMs > 0 {
		conf.ProbeInterval = time.Duration(*probeMs) * time.Millisecond
	}
	if *probeTimeoutMs > 0 {
		conf.ProbeTimeout = time.Duration(*probeTimeoutMs) * time.Millisecond
	}
	if *gossipMs > 0 {
		conf.GossipInterval = time.Duration(*gossipMs) * time.Millisecond
	}
	if *suspicionMult > 0 {
		conf.SuspicionMult = *suspicionMult
	}
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad key:", err)
			os.Exit(2)
		}
		ring, err := memberlist.NewKeyring(nil, k)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad key:", err)
			os.Exit(2)
		}
		conf.Keyring = ring
	}
	if *verbose {
		conf.Logger = log.New(os.Stderr, *name+" ", log.Lmicroseconds)
	} else {
		conf.LogOutput = ioutil.Discard
	}
	sink := &byteSink{}
	mconf := metrics.DefaultConfig("gopeer")
	mconf.EnableHostname = false
	mconf.EnableRuntimeMetrics = false
	_, _ = metrics.NewGlobal(mconf, sink)

	var ml *memberlist.Memberlist
	d := &delegate{meta: []byte("go")}
	d.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return ml.NumMembers() },
		RetransmitMult: conf.RetransmitMult,
	}
	conf.Delegate = d
	conf.Events = events{}

	var err error
	ml, err = memberlist.Create(conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "create:", err)
		os.Exit(1)
	}
	emit(map[string]interface{}{"ev": "ready", "name": *name, "port": *port})

	doJoin := func(list string) {
		n, err := ml.Join(strings.Split(list, ","))
		res := map[string]interface{}{"ev": "joined", "n": n}
		if err != nil {
			res["error"] = err.Error()
		}
		emit(res)
	}
	if *join != "" {
		doJoin(*join)
	}
	if *broadcast != "" {
		d.queue.QueueBroadcast(simpleBroadcast(*broadcast))
	}

	findNode := func(n string) *memberlist.Node {
		for _, m := range ml.Members() {
			if m.Name == n {
				return m
			}
		}
		return nil
	}

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		cmd, arg := line, ""
		if i := strings.IndexByte(line, ' '); i >= 0 {
			cmd, arg = line[:i], line[i+1:]
		}
		switch cmd {
		case "members":
			list := []map[string]interface{}{}
			for _, m := range ml.Members() {
				list = append(list, nodeJSON(m))
			}
			emit(map[string]interface{}{"ev": "members", "members": list})
		case "broadcast":
			d.queue.QueueBroadcast(simpleBroadcast(arg))
			emit(map[string]interface{}{"ev": "ok", "cmd": cmd})
		case "send", "reliable":
			parts := strings.SplitN(arg, " ", 2)
			node := findNode(parts[0])
			if node == nil || len(parts) < 2 {
				emit(map[string]interface{}{"ev": "error", "cmd": cmd, "error": "unknown node"})
				continue
			}
			if cmd == "send" {
				err = ml.SendBestEffort(node, []byte(parts[1]))
			} else {
				err = ml.SendReliable(node, []byte(parts[1]))
			}
			if err != nil {
				emit(map[string]interface{}{"ev": "error", "cmd": cmd, "error": err.Error()})
			} else {
				emit(map[string]interface{}{"ev": "ok", "cmd": cmd})
			}
		case "join":
			doJoin(arg)
		case "leave":
			err := ml.Leave(2 * time.Second)
			res := map[string]interface{}{"ev": "left"}
			if err != nil {
				res["error"] = err.Error()
			}
			emit(res)
		case "stats":
			sink.Lock()
			udp, tcp := sink.udp, sink.tcp
			sink.Unlock()
			emit(map[string]interface{}{"ev": "stats", "health": ml.GetHealthScore(), "members": ml.NumMembers(),
				"udpBytesSent": udp, "tcpBytesSent": tcp})
		case "shutdown":
			_ = ml.Shutdown()
			emit(map[string]interface{}{"ev": "bye"})
			os.Exit(0)
		case "":
		default:
			emit(map[string]interface{}{"ev": "error", "cmd": cmd, "error": "unknown command"})
		}
	}
	// stdin closed: the driver went away, so do we (no orphans).
	_ = ml.Shutdown()
}
