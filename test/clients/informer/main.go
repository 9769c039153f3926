// Command informer lists and watches ConfigMaps in one namespace through
// kubegate with a client-go shared informer and prints one line per event, so an
// end-to-end test can check that every change made meanwhile is seen and that
// the informer lists once (no relist storm).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// counter counts the requests that fetch the whole state (a list, or a watch that streams
// the initial list with sendInitialEvents) and the watches, as they leave the client.
type counter struct {
	next           http.RoundTripper
	lists, watches atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/configmaps") {
		q := r.URL.Query()
		watch := q.Get("watch") == "true" || q.Get("watch") == "1"
		if !watch || q.Get("sendInitialEvents") == "true" {
			c.lists.Add(1)
		}
		if watch {
			c.watches.Add(1)
		}
	}
	return c.next.RoundTrip(r)
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	namespace := flag.String("namespace", "default", "namespace to watch")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cnt := &counter{}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { cnt.next = rt; return cnt }
	client := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute, informers.WithNamespace(*namespace))
	inf := factory.Core().V1().ConfigMaps().Informer()
	show := func(kind string, obj interface{}) {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			fmt.Printf("%s %s %s\n", kind, cm.Name, cm.Data["v"])
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o interface{}) { show("ADDED", o) },
		UpdateFunc: func(_, o interface{}) { show("MODIFIED", o) },
		DeleteFunc: func(o interface{}) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			show("DELETED", o)
		},
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		os.Exit(1)
	}
	fmt.Println("SYNCED")
	<-ctx.Done()
	fmt.Printf("REQUESTS lists=%d watches=%d\n", cnt.lists.Load(), cnt.watches.Load())
}
