#!/usr/bin/env python3
"""Turns the measurements of one `make bench` run (results.tsv: key TAB value) into the table,
the target checks, and optionally a dated row appended to docs/benchmarks.md.

A key recorded once per round holds one value per round; figures are the median over rounds,
and a ratio is the median of the rounds' own ratios (ours and the reference ran back to back).

usage: report.py RESULTS_TSV [--append docs/benchmarks.md]

Every ratio reads the same way: above 1 ours is better (throughput ours / reference; times and
latencies reference / ours).
"""
import sys

MIB = 1024
# The BALANCE pairs run.sh measures: key, clients, the machine's condition.
BALANCE_CELLS = [("found_c8", 8, "machine as found"), ("found_c64", 64, "machine as found"),
                 ("loaded_c8", 8, "one core kept busy"), ("loaded_c64", 64, "one core kept busy")]


def load(path):
    """key -> the values recorded under it, in order."""
    values = {}
    for line in open(path):
        key, _, value = line.rstrip("\n").partition("\t")
        values.setdefault(key, []).append(value)
    return values


def median(values):
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def grouped(value, digits=0):
    return "{:,.{}f}".format(value, digits)


class Report:
    def __init__(self, values):
        self.series = values
        # The last value of each key, for the run's facts (date, members, verify outcome).
        self.v = {key: found[-1] for key, found in values.items()}
        self.rows = []

    def numbers(self, key):
        return [x for x in (number(text) for text in self.series.get(key, [])) if x is not None]

    def f(self, key):
        """The median over rounds."""
        return median(self.numbers(key))

    def paired(self, ours_key, ref_key, invert=False):
        """Median of round-by-round ratios, ours over the reference (inverted for times)."""
        pairs = [(o, r) for o, r in zip(self.numbers(ours_key), self.numbers(ref_key)) if o and r]
        return median([(r / o) if invert else (o / r) for o, r in pairs])

    def row(self, scenario, ours, reference, ratio):
        self.rows.append((scenario, ours, reference, "%.2f" % ratio if ratio is not None else "—"))
        return ratio

    def throughput(self, scenario, ours_key, unit, ref_label, ref_key):
        ours, ref = self.f(ours_key), self.f(ref_key)
        return self.row(scenario, "%s %s" % (grouped(ours), unit) if ours else "—",
                        "%s: %s tps" % (ref_label, grouped(ref)) if ref else "—",
                        self.paired(ours_key, ref_key))

    def latency(self, scenario, ours_prefix, ref_label, ref_prefix):
        o50, o99 = self.f(ours_prefix + "_p50_ms"), self.f(ours_prefix + "_p99_ms")
        r50, r99 = self.f(ref_prefix + "_p50_ms"), self.f(ref_prefix + "_p99_ms")
        if None in (o50, o99, r50, r99):
            return  # the scenario was not run (--only)
        self.row(scenario, "%.2f / %.2f ms" % (o50, o99), "%s: %.2f / %.2f ms" % (ref_label, r50, r99),
                 self.paired(ours_prefix + "_p99_ms", ref_prefix + "_p99_ms", invert=True))

    def conditions(self, key, condition):
        """The machine's state just before a BALANCE pair: load average and idle CPU (medians over rounds)."""
        load, idle = self.f("load_" + key), self.f("idle_" + key)
        state = "load average %.2f, %.0f %% idle before" % (load, idle) if load is not None and idle is not None else "state not recorded"
        return "%s (%s)" % (condition, state)

    def mib(self, key):
        kib = self.f(key)
        return "—" if kib is None else "%.1f MiB" % (kib / MIB)

    def rate(self, rows_key, seconds_key):
        """Rows per second; a reference timed before and after ours counts as their mean."""
        rows, seconds = self.f(rows_key), self.numbers(seconds_key)
        return rows * len(seconds) / sum(seconds) if rows and seconds else None

    def build(self):
        v = self.v
        members = int(v["members"])
        self.balance = {}
        for key, clients, condition in BALANCE_CELLS:
            where = self.conditions(key, condition)
            self.balance[key] = self.throughput("BALANCE, %d clients, random of %s members, %s" % (clients, grouped(members), where),
                                                "balance_%s_rps" % key, "req/s", "pgbench -S -j 2", "pgbench_select_%s_tps" % key)
            self.latency("BALANCE latency p50 / p99, %d clients, %s" % (clients, condition), "balance_" + key,
                         "pgbench -S", "pgbench_select_" + key)
        balance = self.balance["found_c8"]
        statement = self.throughput("STATEMENT LIMIT 1000 of a member with 1,000 entries, 8 clients", "statement_rps",
                                    "req/s", "same SELECT via pgbench", "statement_ref_tps")
        redeem = self.throughput("REDEEM POINTS 1, 8 clients over 10,000 members", "redeem_ops", "ops/s",
                                 "pgbench TPC-B-like", "tpcb_tps")
        self.latency("REDEEM latency p50 / p99", "redeem", "TPC-B-like", "tpcb")
        hold_capture = self.throughput("HOLD then CAPTURE (one op = both), 8 clients", "hold_capture_ops", "ops/s",
                                       "pgbench TPC-B-like", "tpcb_tps")
        copy = self.rate("copy_rows", "copy_seconds")
        pipe = self.rate("pipe_rows", "pipe_seconds")
        imported = self.rate("import_rows", "import_seconds")
        lines = grouped(self.f("pipe_rows") or 0)
        copy_label = "COPY into a bare table keyed (partner, txn-id): %s rows/s" % grouped(copy) if copy else "—"
        ingestion = self.row("ingestion: %s lines, 10,000-line batches, redis-cli --pipe" % lines,
                             "%s lines/s" % grouped(pipe) if pipe else "—", copy_label,
                             pipe / copy if pipe and copy else None)
        self.row("ingestion: the same volume through loyaltyctl import", "%s lines/s" % grouped(imported) if imported else "—",
                 copy_label, imported / copy if imported and copy else None)
        ledger_pass = self.f("ledger_pass_seconds")
        verify = ledger_pass / number(v["job:verify"]) if ledger_pass and number(v.get("job:verify")) else None
        entries = grouped(number(v.get("entries")) or 0)
        for key in [k for k in v if k.startswith("job:")]:
            label, seconds = key[4:], v[key]
            took = number(seconds)
            scenario = "loyaltyctl %s over %s members, %s entries" % (label, grouped(members), entries)
            if took is None:
                self.row(scenario, "not in this build" if seconds == "absent" else seconds, "—", None)
            else:
                self.row(scenario, "%.1f s" % took, "one GROUP BY pass over the ledger: %.1f s" % ledger_pass,
                         ledger_pass / took if took else None)
        idle = self.f("rss_idle_kib")
        self.row("server RSS at start", self.mib("rss_start_kib"), "—", None)
        self.row("server peak RSS with 1,000 idle connections", self.mib("rss_idle_kib"), "target 64 MiB",
                 64 * MIB / idle if idle else None)
        self.row("server peak RSS over the whole run (all load above)", self.mib("rss_load_kib"), "—", None)
        p99 = self.f("balance_found_c8_p99_ms")
        self.targets = [("BALANCE ≥ 0.9 × pgbench -S, %d clients, %s" % (clients, condition), self.balance[key],
                         self.balance[key] is not None and self.balance[key] >= 0.9) for key, clients, condition in BALANCE_CELLS]
        self.targets += [("BALANCE p99 ≤ 1 ms at 8 clients, %s" % condition, self.f("balance_%s_p99_ms" % key),
                          (self.f("balance_%s_p99_ms" % key) or 99) <= 1.0) for key, clients, condition in BALANCE_CELLS if clients == 8]
        self.targets += [
            ("ingestion ≥ 0.4 × COPY", ingestion, ingestion is not None and ingestion >= 0.4),
            ("REDEEM ≥ 1.0 × TPC-B-like", redeem, redeem is not None and redeem >= 1.0),
            ("STATEMENT ≥ 0.8 × its SELECT", statement, statement is not None and statement >= 0.8),
            ("HOLD then CAPTURE ≥ 0.8 × TPC-B-like", hold_capture, hold_capture is not None and hold_capture >= 0.8),
            ("verify ≥ 0.3 × one GROUP BY pass", verify, verify is not None and verify >= 0.3),
            ("RSS ≤ 64 MiB at 1,000 idle connections", idle / MIB if idle else None, idle is not None and idle <= 64 * MIB),
        ]
        self.summary = {"balance": balance, "p99": p99, "ingestion": ingestion, "import": imported / copy if imported and copy else None,
                        "redeem": redeem, "statement": statement}

    def checks(self):
        v = self.v
        lines = []
        sent, after = v.get("pipe_rows"), v.get("pipe_rows_after_resend")
        lines.append("exactly once: the %s piped lines sent again applied %s more" % (
            sent, int(number(after) - number(sent)) if number(after) is not None and number(sent) is not None else "?"))
        errors = {k[:-len("_errors")]: int(sum(self.numbers(k))) for k in v if k.endswith("_errors")}
        lines.append("spending errors: %s" % (", ".join("%s %d" % kv for kv in errors.items() if kv[1]) or "none"))
        lines.append("verify after the run: %s" % v.get("verify", "not run"))
        return lines

    def markdown(self):
        out = ["| scenario | ours | reference (same run) | ratio |", "| --- | --- | --- | --- |"]
        out += ["| %s | %s | %s | %s |" % row for row in self.rows]
        out.append("")
        out.append("ratio > 1: ours is better (throughput ours/reference; times and latencies reference/ours).")
        out.append("")
        out.append("Targets:")
        for name, value, met in self.targets:
            shown = "—" if value is None else ("%.2f" % value)
            out.append("- %s: %s %s" % (name, shown, "met" if met else "MISSED"))
        out.append("")
        out += ["- " + line for line in self.checks()]
        v = self.v
        out.append("")
        out.append("%s members, %s ledger entries; %s; commit %s; build %.0f s, data %.0f s, whole run %s s." % (
            grouped(int(v["members"])), grouped(number(v.get("entries")) or 0), v["machine"], v["commit"],
            number(v.get("build_seconds")) or 0, number(v.get("generate_seconds")) or 0, v.get("total_seconds")))
        return "\n".join(out)

    def docs_row(self):
        v, s = self.v, self.summary
        fmt = lambda x: "—" if x is None else "%.2f" % x
        jobs = ", ".join("%s %s" % (k[4:].replace("report ", ""), ("%.0f s" % number(v[k])) if number(v[k]) is not None else v[k])
                         for k in v if k.startswith("job:"))
        cells = ", ".join("%s %s (load %s)" % (fmt(self.balance[key]), label, fmt(self.f("load_" + key)))
                          for key, label in (("found_c64", "64 clients"), ("loaded_c8", "loaded 8"), ("loaded_c64", "loaded 64")))
        return "| %s | %s | %s | %s | %s (load %s) | %s | %s / %s | %s | %s | %.1f / %.1f | %s | %s | %s |" % (
            v["date"], v["commit"], v["machine"], grouped(int(v["members"])), fmt(s["balance"]), fmt(self.f("load_found_c8")),
            fmt(s["p99"]), fmt(s["ingestion"]), fmt(s["import"]), fmt(s["redeem"]), fmt(s["statement"]),
            (self.f("rss_idle_kib") or 0) / MIB, (self.f("rss_load_kib") or 0) / MIB, jobs, v.get("total_seconds"), cells)


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    report = Report(load(args[0]))
    report.build()
    print(report.markdown())
    if len(args) == 3 and args[1] == "--append":
        with open(args[2], "a") as docs:
            docs.write(report.docs_row() + "\n")


if __name__ == "__main__":
    main()
