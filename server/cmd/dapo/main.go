// Command dapo is the DAPO anomaly-detection tool; see `dapo --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"dapo/server/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
