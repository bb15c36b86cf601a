package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CPU time by process group, read from /proc, so that a throughput ratio can
// be split into who spent the machine's cores: the Temporal engine (the dev
// server, or the cluster's service processes), PostgreSQL (every backend
// alive at both readings; one that exits in between loses its share), and
// this process (the API, the worker and the load clients). Linux only; on
// another system every group reads zero and the table says so.

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc's stat files.
const clockTicks = 100

type cpuGroups map[string]float64 // seconds of CPU by group

var cpuGroupNames = []string{"engine", "postgres", "bench process"}

func groupOf(comm string, pid int) string {
	switch {
	case pid == os.Getpid():
		return "bench process"
	case strings.HasPrefix(comm, "temporal"):
		return "engine"
	case comm == "postgres":
		return "postgres"
	}
	return ""
}

// readCPU sums utime and stime of every process by group.
func readCPU() cpuGroups {
	out := cpuGroups{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process exited
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		g := groupOf(s[open+1:closing], pid)
		if g == "" {
			continue
		}
		// After the comm: state is field 3, utime field 14, stime field 15.
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(fields[11], 64)
		st, _ := strconv.ParseFloat(fields[12], 64)
		out[g] += (u + st) / clockTicks
	}
	return out
}

// cpuPer returns each group's CPU milliseconds per operation between two
// readings.
func cpuPer(before, after cpuGroups, ops int) map[string]float64 {
	per := map[string]float64{}
	for _, g := range cpuGroupNames {
		per[g] = (after[g] - before[g]) * 1000 / float64(max(ops, 1))
	}
	return per
}

// printCPU prints one row per measured path: CPU ms per operation by group.
func printCPU(title string, rows []string, per []map[string]float64) {
	fmt.Printf("\n%s\n| path | engine ms | postgres ms | bench process ms | total ms |\n|---|---|---|---|---|\n", title)
	for i, name := range rows {
		p := per[i]
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", name, p["engine"], p["postgres"], p["bench process"],
			p["engine"]+p["postgres"]+p["bench process"])
	}
}
