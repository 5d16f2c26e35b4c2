# The client-library script (Tests/ClientLibraries/README.md) with redis-rb, the Ruby client.
# Prints `ok STEP` per step; exits 1 at the first step that fails.
require "redis"

PORT = Integer(ENV.fetch("LOYALTY_PORT"))
TODAY = ENV.fetch("LOYALTY_TODAY")
SECRETS = { "CARDCO" => ENV.fetch("CARDCO_KEY"), "agent:demo" => ENV.fetch("AGENT_SECRET"), "member:M1" => "1234" }

def check(step, ok, detail = "")
  unless ok
    puts "FAIL #{step}: #{detail}"
    exit 1
  end
  puts "ok #{step}"
  $stdout.flush
end

def connect(user, password = SECRETS[user], **options)
  Redis.new(host: "127.0.0.1", port: PORT, username: user, password: password, **options)
end

begin
  connect("agent:demo", "wrong").ping
  check("wrong-password", false, "no error")
rescue Redis::CommandError => e
  check("wrong-password", e.message.start_with?("WRONGPASS"), e.inspect)
end

# `id:` is the client name, sent with CLIENT SETNAME on connect.
partner = connect("CARDCO", id: "partner-ruby")
reply = partner.call("ACCRUE", "t-1", "M1", TODAY, "amount=100.00", "currency=USD")
check("partner-accrue", reply == ["t-1", 100, 5], reply.inspect)
replies = partner.pipelined do |pipe|
  pipe.call("BATCH", "BEGIN", "pipe-1")
  (1..1000).each { |i| pipe.call("ACCRUE", "b-#{i}", "M1", TODAY, "amount=1.00", "currency=USD") }
  pipe.call("BATCH", "COMMIT")
end
check("batch-pipeline-1000", replies[1..1000].all?("QUEUED") && replies.last == ["pipe-1", 1000, 0, 0],
      replies.last.inspect)

agent = connect("agent:demo")
check("agent-balance", agent.call("BALANCE", "M1") == 1100)
listing = agent.call("CLIENT", "LIST")
check("client-name", listing.include?(" name=partner-ruby "), listing)
begin
  agent.call("BALANCE", "M404")
  check("error-reply", false, "no error")
rescue Redis::CommandError => e
  check("error-reply", e.message.start_with?("NOTFOUND"), e.inspect)
end

member = connect("member:M1")
entries = member.call("STATEMENT", "M1", "LIMIT", "5")
check("member-statement", entries.size == 5 && entries[0][2..5] == ["accrual", 1, 0, "CARDCO"], entries[0].inspect)
first = member.call("REDEEM", "r-1", "M1", "POINTS", "100")
again = member.call("REDEEM", "r-1", "M1", "POINTS", "100")
check("member-redeem-replay", first == again && first[1..2] == [100, 1000], [first, again].inspect)
fields = member.call("MEMBER", "M1").each_slice(2).to_h
check("member-fields", fields["available"] == "1000" && fields["tier_until"].nil?, fields.inspect)
puts "done"
