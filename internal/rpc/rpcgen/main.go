// Command rpcgen writes the client half of internal/rpc for one interface:
// a struct whose methods forward each call to rpc.Client.Call, so a
// polylith process can use a remote component through its Go interface.
//
//	//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface RoomserverAPI
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/axon-hs/axon/internal/rpc/gen"
)

func main() {
	iface := flag.String("iface", "", "interface name")
	dir := flag.String("dir", ".", "package directory")
	flag.Parse()
	if *iface == "" {
		log.Fatal("-iface is required")
	}
	src, err := gen.Generate(*dir, *iface)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, gen.FileName(*iface)), src, 0o644); err != nil {
		log.Fatal(err)
	}
}
