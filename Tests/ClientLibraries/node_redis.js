// The client-library script (Tests/ClientLibraries/README.md) with node-redis, the Node client.
// Prints `ok STEP` per step; exits 1 at the first step that fails.
const { createClient, ErrorReply } = require("redis");

const port = Number(process.env.LOYALTY_PORT);
const today = process.env.LOYALTY_TODAY;
const secrets = { CARDCO: process.env.CARDCO_KEY, "agent:demo": process.env.AGENT_SECRET, "member:M1": "1234" };

function check(step, ok, detail = "") {
  if (!ok) {
    console.log(`FAIL ${step}: ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${step}`);
}

// Errors the clients emitted (a refused sign-in is emitted, then connect() fails).
const emitted = [];

async function connect(username, password = secrets[username], options = {}) {
  // No reconnecting: a refused sign-in must end the attempt, not start a retry loop.
  const socket = { host: "127.0.0.1", port, reconnectStrategy: () => new Error("no reconnecting") };
  const client = createClient({ socket, username, password, ...options });
  client.on("error", (error) => emitted.push(error));
  await client.connect();
  return client;
}

async function main() {
  try {
    await connect("agent:demo", "wrong");
    check("wrong-password", false, "no error");
  } catch (error) {
    const refusal = emitted.find((e) => e instanceof ErrorReply);
    check("wrong-password", refusal !== undefined && refusal.message.startsWith("WRONGPASS"), `${error} ${emitted}`);
  }

  // `name` is sent with CLIENT SETNAME on connect.
  const partner = await connect("CARDCO", secrets.CARDCO, { name: "partner-node" });
  const accrued = await partner.sendCommand(["ACCRUE", "t-1", "M1", today, "amount=100.00", "currency=USD"]);
  check("partner-accrue", JSON.stringify(accrued) === JSON.stringify(["t-1", 100, 5]), JSON.stringify(accrued));
  // Commands sent in the same tick go out as one pipeline (not MULTI).
  const lines = [["BATCH", "BEGIN", "pipe-1"]];
  for (let i = 1; i <= 1000; i++) lines.push(["ACCRUE", `b-${i}`, "M1", today, "amount=1.00", "currency=USD"]);
  lines.push(["BATCH", "COMMIT"]);
  const replies = await Promise.all(lines.map((line) => partner.sendCommand(line)));
  check("batch-pipeline-1000", replies.slice(1, 1001).every((r) => r === "QUEUED")
    && JSON.stringify(replies[1001]) === JSON.stringify(["pipe-1", 1000, 0, 0]), JSON.stringify(replies[1001]));

  const agent = await connect("agent:demo");
  check("agent-balance", (await agent.sendCommand(["BALANCE", "M1"])) === 1100);
  const listing = await agent.sendCommand(["CLIENT", "LIST"]);
  check("client-name", listing.includes(" name=partner-node "), listing);
  try {
    await agent.sendCommand(["BALANCE", "M404"]);
    check("error-reply", false, "no error");
  } catch (error) {
    check("error-reply", error instanceof ErrorReply && error.message.startsWith("NOTFOUND"), String(error));
  }

  const member = await connect("member:M1");
  const entries = await member.sendCommand(["STATEMENT", "M1", "LIMIT", "5"]);
  check("member-statement", entries.length === 5
    && JSON.stringify(entries[0].slice(2, 6)) === JSON.stringify(["accrual", 1, 0, "CARDCO"]), JSON.stringify(entries[0]));
  const first = await member.sendCommand(["REDEEM", "r-1", "M1", "POINTS", "100"]);
  const again = await member.sendCommand(["REDEEM", "r-1", "M1", "POINTS", "100"]);
  check("member-redeem-replay", JSON.stringify(first) === JSON.stringify(again) && first[1] === 100 && first[2] === 1000,
    JSON.stringify([first, again]));
  const flat = await member.sendCommand(["MEMBER", "M1"]);
  const fields = Object.fromEntries(flat.flatMap((value, i) => (i % 2 === 0 ? [[value, flat[i + 1]]] : [])));
  check("member-fields", fields.available === "1000" && fields.tier_until === null, JSON.stringify(fields));
  for (const client of [partner, agent, member]) await client.quit();
  console.log("done");
}

main().catch((error) => {
  console.log(`FAIL unexpected: ${error && error.stack}`);
  process.exit(1);
});
