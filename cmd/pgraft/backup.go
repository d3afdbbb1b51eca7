package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/pgraft/pgraft/server"
)

// backupCommand is `pgraft backup`: a consistent copy of a node's
// database, taken while writes go on (POST /backup, server/backup.go).
func backupCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "backup",
		Usage: "copy a running node's database, consistent at one applied index, into a file (a plain SQLite database)",
		Flags: []cli.Flag{
			httpAddrFlag(),
			adminTokenFlag(),
			&cli.StringFlag{Name: "out", Required: true, Usage: "the file to write (replaced only once the copy is complete)"},
		},
		Action: func(c *cli.Context) error {
			token, err := readToken(c.String("admin-token-file"))
			if err != nil {
				return err
			}
			return runBackup(c.Context, stdout, stderr, c.String("http-addr"), token, c.String("out"))
		},
	}
}

func runBackup(ctx context.Context, stdout, stderr io.Writer, addr, token, out string) error {
	resp, err := nodeRequest(ctx, http.MethodPost, "http://"+addr+"/backup", token)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup from %s: %s: %s", addr, resp.Status, msg)
	}
	tmp := out + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp) // gone by then when the copy completed
	n, err := io.Copy(f, newProgress(resp.Body, stderr, "backup", resp.ContentLength))
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("the node sent %d of %d bytes", n, resp.ContentLength)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of node %s at applied index %s: %s, %d bytes, checksum %s\n",
		resp.Header.Get("X-Pgraft-Node-Id"), resp.Header.Get("X-Pgraft-Applied-Index"), out, n,
		resp.Header.Get("X-Pgraft-Checksum"))
	return nil
}

// restoreCommand is `pgraft restore`: a new data dir seeded from a
// backup, from which `pgraft serve` starts a new one-node cluster (others
// join it as usual).
func restoreCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "make a new node's data dir from a backup: pgraft serve on it starts a new cluster with the backup's data",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data-dir", Required: true, Usage: "the new data dir (must not exist, or be empty)"},
			&cli.StringFlag{Name: "from", Required: true, Usage: "the backup file (pgraft backup --out)"},
		},
		Action: func(c *cli.Context) error {
			return runRestore(stdout, stderr, c.String("data-dir"), c.String("from"))
		},
	}
}

func runRestore(stdout, stderr io.Writer, dir, from string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore: %s is not empty: restore into a new data dir", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	src, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	db := filepath.Join(dir, "db.sqlite")
	f, err := os.OpenFile(db, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(f, newProgress(src, stderr, "restore", info.Size()))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = server.SeedRestoredDataDir(dir)
	}
	if err != nil {
		os.Remove(db)
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: start it with pgraft serve --data-dir %s (a new one-node cluster; other nodes join it)\n",
		from, dir, dir)
	return nil
}

// progress reports bytes, rate and time left on a terminal, once a
// second; on anything else (a script's pipe, a file) it says nothing.
type progress struct {
	r           io.Reader
	w           io.Writer
	what        string
	total, done int64
	start, last time.Time
	isTerminal  bool
}

func newProgress(r io.Reader, w io.Writer, what string, total int64) *progress {
	p := &progress{r: r, w: w, what: what, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.isTerminal = err == nil
	}
	return p
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.isTerminal && (time.Since(p.last) >= time.Second || err == io.EOF) {
		p.last = time.Now()
		elapsed := time.Since(p.start).Seconds()
		rate := float64(p.done) / max(elapsed, 0.001)
		left := "?"
		if p.total > 0 && rate > 0 {
			left = (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String()
		}
		line := fmt.Sprintf("\r%s: %s", p.what, mib(p.done))
		if p.total > 0 {
			line += " of " + mib(p.total)
		}
		fmt.Fprintf(p.w, "%s, %s/s, %s left   ", line, mib(int64(rate)), left)
		if err == io.EOF {
			fmt.Fprintln(p.w)
		}
	}
	return n, err
}

func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
