"""The client-library script (Tests/ClientLibraries/README.md) with redis-py.

    python redis_py.py resp3|resp2|asyncio

resp3: redis.Redis with its default settings (it opens with HELLO 3); resp2: protocol=2;
asyncio: redis.asyncio through a ConnectionPool. Prints `ok STEP` per step; exits 1 at the first
step that fails.
"""
import asyncio
import os
import sys

import redis
import redis.asyncio

MODE = sys.argv[1]
PORT = int(os.environ["LOYALTY_PORT"])
TODAY = os.environ["LOYALTY_TODAY"]
SECRETS = {"CARDCO": os.environ["CARDCO_KEY"], "agent:demo": os.environ["AGENT_SECRET"], "member:M1": "1234"}
OPTIONS = {"resp3": {}, "resp2": {"protocol": 2}, "asyncio": {}}[MODE]


def check(step, ok, detail=""):
    if not ok:
        print(f"FAIL {step}: {detail}")
        sys.exit(1)
    print(f"ok {step}")


def batch_lines():
    return [("ACCRUE", f"b-{i}", "M1", TODAY, "amount=1.00", "currency=USD") for i in range(1, 1001)]


def expect_batch(replies):
    queued = sum(1 for r in replies[1:-1] if r in (b"QUEUED", "QUEUED", True))
    return replies[0] in (True, b"OK", "OK") and queued == 1000 and replies[-1] == [b"pipe-1", 1000, 0, 0]


def run_sync():
    def connect(user, password=None, **extra):
        return redis.Redis(port=PORT, username=user, password=password or SECRETS[user], **OPTIONS, **extra)

    try:
        connect("agent:demo", "wrong").ping()
        check("wrong-password", False, "no error")
    except redis.AuthenticationError as error:
        check("wrong-password", "invalid" in str(error).lower(), repr(error))

    partner = connect("CARDCO", client_name=f"partner-{MODE}")
    check("partner-accrue", partner.execute_command("ACCRUE", "t-1", "M1", TODAY, "amount=100.00", "currency=USD")
          == [b"t-1", 100, 5])
    pipe = partner.pipeline(transaction=False)
    pipe.execute_command("BATCH", "BEGIN", "pipe-1")
    for line in batch_lines():
        pipe.execute_command(*line)
    pipe.execute_command("BATCH", "COMMIT")
    replies = pipe.execute()
    check("batch-pipeline-1000", expect_batch(replies), repr(replies[:2] + replies[-1:]))

    agent = connect("agent:demo")
    check("agent-balance", agent.execute_command("BALANCE", "M1") == 1100)
    listing = agent.client_list()
    check("client-name", any(c.get("name") == f"partner-{MODE}" for c in listing), repr(listing))
    info = agent.info("clients")
    check("info", info.get("connected_clients", 0) >= 2, repr(info))
    try:
        agent.execute_command("BALANCE", "M404")
        check("error-reply", False, "no error")
    except redis.ResponseError as error:
        check("error-reply", str(error).startswith("NOTFOUND"), repr(error))

    member = connect("member:M1")
    entries = member.execute_command("STATEMENT", "M1", "LIMIT", "5")
    check("member-statement", len(entries) == 5 and entries[0][2:6] == [b"accrual", 1, 0, b"CARDCO"], repr(entries[:1]))
    first = member.execute_command("REDEEM", "r-1", "M1", "POINTS", "100")
    again = member.execute_command("REDEEM", "r-1", "M1", "POINTS", "100")
    check("member-redeem-replay", first == again and first[1:] == [100, 1000], repr((first, again)))
    fields = member.execute_command("MEMBER", "M1")
    if isinstance(fields, list):  # RESP2: the flat field/value array
        fields = dict(zip(fields[::2], fields[1::2]))
    expected = 1000 if OPTIONS.get("protocol") != 2 else b"1000"
    check("member-fields", fields[b"available"] == expected and fields[b"tier_until"] is None, repr(fields))
    hello = member.execute_command("HELLO")
    proto = hello[b"proto"] if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2]))[b"proto"]
    check("protocol", proto == (2 if OPTIONS.get("protocol") == 2 else 3), repr(hello))


async def run_async():
    def pool(user, password=None, **extra):
        return redis.asyncio.ConnectionPool(port=PORT, username=user, password=password or SECRETS[user],
                                            max_connections=16, **extra)

    try:
        await redis.asyncio.Redis(connection_pool=pool("agent:demo", "wrong")).ping()
        check("wrong-password", False, "no error")
    except redis.AuthenticationError as error:
        check("wrong-password", "invalid" in str(error).lower(), repr(error))

    partner = redis.asyncio.Redis(connection_pool=pool("CARDCO", client_name="partner-asyncio"))
    check("partner-accrue", await partner.execute_command("ACCRUE", "t-1", "M1", TODAY, "amount=100.00", "currency=USD")
          == [b"t-1", 100, 5])
    async with partner.pipeline(transaction=False) as pipe:
        pipe.execute_command("BATCH", "BEGIN", "pipe-1")
        for line in batch_lines():
            pipe.execute_command(*line)
        pipe.execute_command("BATCH", "COMMIT")
        replies = await pipe.execute()
    check("batch-pipeline-1000", expect_batch(replies), repr(replies[:2] + replies[-1:]))

    agent = redis.asyncio.Redis(connection_pool=pool("agent:demo"))
    # Ten at once: the pool opens connections of its own, each signed in on connect.
    balances = await asyncio.gather(*(agent.execute_command("BALANCE", "M1") for _ in range(10)))
    check("agent-balance", balances == [1100] * 10, repr(balances))
    listing = await agent.client_list()
    check("client-name", any(c.get("name") == "partner-asyncio" for c in listing), repr(listing))
    info = await agent.info("clients")
    check("info", info.get("connected_clients", 0) >= 2, repr(info))
    try:
        await agent.execute_command("BALANCE", "M404")
        check("error-reply", False, "no error")
    except redis.ResponseError as error:
        check("error-reply", str(error).startswith("NOTFOUND"), repr(error))

    member = redis.asyncio.Redis(connection_pool=pool("member:M1"))
    entries = await member.execute_command("STATEMENT", "M1", "LIMIT", "5")
    check("member-statement", len(entries) == 5 and entries[0][2:6] == [b"accrual", 1, 0, b"CARDCO"], repr(entries[:1]))
    first = await member.execute_command("REDEEM", "r-1", "M1", "POINTS", "100")
    again = await member.execute_command("REDEEM", "r-1", "M1", "POINTS", "100")
    check("member-redeem-replay", first == again and first[1:] == [100, 1000], repr((first, again)))
    fields = await member.execute_command("MEMBER", "M1")
    check("member-fields", fields[b"available"] == 1000 and fields[b"tier_until"] is None, repr(fields))
    for client in (partner, agent, member):
        await client.aclose()


if MODE == "asyncio":
    asyncio.run(run_async())
else:
    run_sync()
print("done")
