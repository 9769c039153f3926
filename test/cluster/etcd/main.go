// Command etcd is the etcd server, built from the Go module proxy because
// go.etcd.io/etcd/server/v3 cannot be `go install`ed directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
