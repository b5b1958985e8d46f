// ndbpeer: Docker's own NetworkDB (github.com/docker/docker/libnetwork/networkdb, Docker 26.1.5
// from Debian trixie) driven over stdin/stdout for the vxmesh interop tests.
// Events and replies are JSON lines on stdout; commands are text lines on stdin. Docker's own
// log lines go to stderr.
//
// Commands:
//
//	join HOST:PORT[,..]          -> {"ev":"joined","err":...}
//	joinnet NID / leavenet NID   -> {"ev":"joinnet"|"leavenet","nid":...,"err":...}
//	create|update TABLE NID KEY VALUE -> {"ev":"create"|"update","err":...}
//	delete TABLE NID KEY         -> {"ev":"delete","err":...}
//	get TABLE NID KEY            -> {"ev":"get","value":...,"err":...}
//	table TABLE NID              -> {"ev":"table","entries":{key:value}}
//	peers NID                    -> {"ev":"peers","peers":[names]}  (NID "" = cluster peers)
//	setkey|setprimary|removekey B64 -> {"ev":"key"} (NetworkDB's keyring operations, as swarm rotates keys)
//	close                        -> Close and exit
//
// Every table event NetworkDB delivers to a watcher of all tables is emitted as
// {"ev":"watch","kind":"create"|"update"|"delete","table":..,"nid":..,"key":..,"value":..}.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/docker/docker/libnetwork/networkdb"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]interface{}) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

func errString(err error) interface{} {
	if err == nil {
		return nil
	}
	return err.Error()
}

func main() {
	name := flag.String("name", "ndbpeer", "NetworkDB node id (memberlist node name)")
	bind := flag.String("bind", "127.0.0.1", "bind address")
	port := flag.Int("port", 7946, "bind port (UDP and TCP)")
	keys := flag.String("keys", "", "comma separated base64 AES keys (first is primary); empty = no encryption")
	flag.Parse()

	conf := networkdb.DefaultConfig()
	conf.NodeID = *name
	conf.Hostname = *name
	conf.BindAddr = *bind
	conf.BindPort = *port
	if *keys != "" {
		for _, k := range strings.Split(*keys, ",") {
			b, err := base64.StdEncoding.DecodeString(k)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bad key:", err)
				os.Exit(2)
			}
			conf.Keys = append(conf.Keys, b)
		}
	}
	db, err := networkdb.New(conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "networkdb.New:", err)
		os.Exit(1)
	}

	ch, cancel := db.Watch("", "")
	defer cancel()
	go func() {
		for ev := range ch.C {
			m := map[string]interface{}{"ev": "watch"}
			switch e := ev.(type) {
			case networkdb.CreateEvent:
				m["kind"], m["table"], m["nid"], m["key"], m["value"] = "create", e.Table, e.NetworkID, e.Key, string(e.Value)
			case networkdb.UpdateEvent:
				m["kind"], m["table"], m["nid"], m["key"], m["value"] = "update", e.Table, e.NetworkID, e.Key, string(e.Value)
			case networkdb.DeleteEvent:
				m["kind"], m["table"], m["nid"], m["key"], m["value"] = "delete", e.Table, e.NetworkID, e.Key, string(e.Value)
			default:
				continue
			}
			emit(m)
		}
	}()
	emit(map[string]interface{}{"ev": "ready", "name": *name})

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.SplitN(strings.TrimSpace(sc.Text()), " ", 5)
		arg := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		switch f[0] {
		case "join":
			emit(map[string]interface{}{"ev": "joined", "err": errString(db.Join(strings.Split(arg(1), ",")))})
		case "joinnet":
			emit(map[string]interface{}{"ev": "joinnet", "nid": arg(1), "err": errString(db.JoinNetwork(arg(1)))})
		case "leavenet":
			emit(map[string]interface{}{"ev": "leavenet", "nid": arg(1), "err": errString(db.LeaveNetwork(arg(1)))})
		case "create":
			emit(map[string]interface{}{"ev": "create", "err": errString(db.CreateEntry(arg(1), arg(2), arg(3), []byte(arg(4))))})
		case "update":
			emit(map[string]interface{}{"ev": "update", "err": errString(db.UpdateEntry(arg(1), arg(2), arg(3), []byte(arg(4))))})
		case "delete":
			emit(map[string]interface{}{"ev": "delete", "err": errString(db.DeleteEntry(arg(1), arg(2), arg(3)))})
		case "get":
			v, err := db.GetEntry(arg(1), arg(2), arg(3))
			emit(map[string]interface{}{"ev": "get", "value": string(v), "err": errString(err)})
		case "table":
			entries := map[string]string{}
			for k, e := range db.GetTableByNetwork(arg(1), arg(2)) {
				entries[k] = string(e.Value)
			}
			emit(map[string]interface{}{"ev": "table", "entries": entries})
		case "peers":
			var infos []networkdb.PeerInfo
			if arg(1) == "" {
				infos = db.ClusterPeers()
			} else {
				infos = db.Peers(arg(1))
			}
			names := []string{}
			for _, p := range infos {
				names = append(names, p.Name)
			}
			sort.Strings(names)
			emit(map[string]interface{}{"ev": "peers", "peers": names})
		case "setkey", "setprimary", "removekey":
			k, err := base64.StdEncoding.DecodeString(arg(1))
			if err != nil {
				emit(map[string]interface{}{"ev": "key", "err": err.Error()})
				continue
			}
			switch f[0] {
			case "setkey":
				db.SetKey(k)
			case "setprimary":
				db.SetPrimaryKey(k)
			default:
				db.RemoveKey(k)
			}
			emit(map[string]interface{}{"ev": "key", "err": nil})
		case "close":
			db.Close()
			emit(map[string]interface{}{"ev": "closed"})
			os.Exit(0)
		default:
			emit(map[string]interface{}{"ev": "error", "err": "unknown command " + f[0]})
		}
	}
	db.Close()
}
