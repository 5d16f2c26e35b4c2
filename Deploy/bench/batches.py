#!/usr/bin/env python3
"""Partner batch files for the ingestion scenario of `make bench`, all from the same rows:

  pipe.txt           AUTH, BATCH BEGIN, ACCRUE lines, BATCH COMMIT per batch: for `redis-cli --pipe`
  import-PARTNER.txt the same kind of lines (own txn-ids) for `loyaltyctl import`, one file a partner
  copy.tsv           the pipe rows as COPY text, for the reference: COPY into a bare keyed table

usage: batches.py OUT_DIR --lines 200000 --members N --today YYYY-MM-DD --batch-lines 10000 --keys FILE
The keys file is `loyaltyctl demo load` output (`PRINCIPAL SECRET` lines).
"""
import argparse
import datetime
import os
import random

PARTNERS = ["SKYAIR", "HOTELCO", "DRIVECO", "CARDCO", "DINECO"]


def fields(partner, rng):
    """The accrual fields a partner of that category sends, as (miles, cabin, days, amount_minor)."""
    if partner == "SKYAIR":
        return 300 + rng.randrange(4700), rng.choice("YYYYYYYYJF"), None, None
    if partner == "DRIVECO":
        return None, None, 1 + rng.randrange(7), None
    low, high = {"HOTELCO": (5000, 100000), "CARDCO": (1000, 201000), "DINECO": (1500, 16500)}[partner]
    return None, None, None, rng.randrange(low, high)


def accrue_line(txn_id, member, date, values):
    miles, cabin, days, amount = values
    words = ["ACCRUE", txn_id, member, date]
    if amount is not None:
        words += ["amount=%d.%02d" % divmod(amount, 100), "currency=USD"]
    if days is not None:
        words.append("days=%d" % days)
    if miles is not None:
        words += ["miles=%d" % miles, "cabin=%s" % cabin]
    return " ".join(words)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=200000)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--today", required=True)
    parser.add_argument("--batch-lines", type=int, default=10000)
    parser.add_argument("--keys", required=True)
    parser.add_argument("--run", default="1", help="makes txn-ids and batch-ids unique per run")
    args = parser.parse_args()
    keys = dict(line.split()[:2] for line in open(args.keys) if len(line.split()) >= 2)
    today = datetime.date.fromisoformat(args.today)
    rng = random.Random(42)
    per_partner = args.lines // len(PARTNERS)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "pipe.txt"), "w") as pipe, open(os.path.join(args.out, "copy.tsv"), "w") as copy:
        for partner in PARTNERS:
            pipe.write("AUTH %s %s\r\n" % (partner, keys[partner]))
            imported = open(os.path.join(args.out, "import-%s.txt" % partner), "w")
            imported.write("# %s, %d accruals\n" % (partner, per_partner))
            for k in range(per_partner):
                if k % args.batch_lines == 0:
                    if k:
                        pipe.write("BATCH COMMIT\r\n")
                    pipe.write("BATCH BEGIN bench-%s-pipe-%s-%d\r\n" % (args.run, partner, k // args.batch_lines))
                member = "M%012d" % rng.randrange(args.members)
                date = (today - datetime.timedelta(days=rng.randrange(300))).isoformat()
                values = fields(partner, rng)
                txn = "p%s-%d" % (args.run, k)
                pipe.write(accrue_line(txn, member, date, values) + "\r\n")
                imported.write(accrue_line("i%s-%d" % (args.run, k), member, date, values) + "\n")
                miles, cabin, days, amount = values
                copy.write("\t".join([partner, txn, member, date] + [
                    "\\N" if v is None else str(v) for v in (amount, "USD" if amount is not None else None, miles, cabin, days)
                ]) + "\n")
            pipe.write("BATCH COMMIT\r\n")
            imported.close()


if __name__ == "__main__":
    main()
