// Command ferretdb-test-server runs FerretDB (SQLite backend) embedded as a library, so the
// MongoDB store driver can be tested against a real MongoDB wire-protocol server on machines
// without mongod. FerretDB's own command panics outside release builds (its version file is
// generated only for releases); embedding github.com/FerretDB/FerretDB/ferretdb avoids that.
//
// Usage: ferretdb-test-server -listen 127.0.0.1:PORT -dir DIR
// Logs go to stderr; SIGTERM or SIGINT stops it cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "directory for the SQLite data files (created if missing)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	if err := run(*listen, *dir, logger); err != nil {
		logger.Error("ferretdb-test-server failed", "error", err)
		os.Exit(1)
	}
}

func run(listen, dir string, logger *slog.Logger) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}

	if err = os.MkdirAll(abs, 0o700); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return err
	}

	logger.Info("ferretdb-test-server listening", "listen", listen, "dir", abs)

	if err = f.Run(ctx); err != nil {
		return err
	}

	logger.Info("ferretdb-test-server stopped")

	return nil
}
