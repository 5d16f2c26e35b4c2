/* The client-library script (Tests/ClientLibraries/README.md) with hiredis, the C client.
 * cc hiredis.c -lhiredis; prints `ok STEP` per step and exits 1 at the first step that fails. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *today, *cardcoKey, *agentSecret;

static void check(const char *step, int ok, const redisReply *reply) {
    if (!ok) {
        printf("FAIL %s: reply type %d %s\n", step, reply ? reply->type : -1, reply && reply->str ? reply->str : "");
        exit(1);
    }
    printf("ok %s\n", step);
    fflush(stdout);
}

static int isBulk(const redisReply *r, const char *text) { return r->type == REDIS_REPLY_STRING && strcmp(r->str, text) == 0; }
static int isInteger(const redisReply *r, long long n) { return r->type == REDIS_REPLY_INTEGER && r->integer == n; }
static int isStatus(const redisReply *r, const char *text) { return r->type == REDIS_REPLY_STATUS && strcmp(r->str, text) == 0; }
static int isError(const redisReply *r, const char *code) {
    return r->type == REDIS_REPLY_ERROR && strncmp(r->str, code, strlen(code)) == 0;
}

/* A connection signed in as `principal`; exits when the server cannot be reached. */
static redisContext *connectAs(const char *principal, const char *secret, redisReply **authReply) {
    redisContext *c = redisConnect("127.0.0.1", atoi(getenv("LOYALTY_PORT")));
    if (c == NULL || c->err) {
        printf("FAIL connect: %s\n", c ? c->errstr : "no memory");
        exit(1);
    }
    *authReply = redisCommand(c, "AUTH %s %s", principal, secret);
    return c;
}

int main(void) {
    today = getenv("LOYALTY_TODAY");
    cardcoKey = getenv("CARDCO_KEY");
    agentSecret = getenv("AGENT_SECRET");
    redisReply *r;

    redisContext *wrong = connectAs("agent:demo", "wrong", &r);
    check("wrong-password", isError(r, "WRONGPASS"), r);
    freeReplyObject(r);
    redisFree(wrong);

    redisContext *partner = connectAs("CARDCO", cardcoKey, &r);
    check("partner-auth", isStatus(r, "OK"), r);
    freeReplyObject(r);
    r = redisCommand(partner, "CLIENT SETNAME partner-hiredis");
    check("client-setname", isStatus(r, "OK"), r);
    freeReplyObject(r);
    r = redisCommand(partner, "ACCRUE t-1 M1 %s amount=100.00 currency=USD", today);
    check("partner-accrue", r->type == REDIS_REPLY_ARRAY && r->elements == 3 && isBulk(r->element[0], "t-1")
          && isInteger(r->element[1], 100) && isInteger(r->element[2], 5), r);
    freeReplyObject(r);

    /* The pipeline: every request written before any reply is read. */
    redisAppendCommand(partner, "BATCH BEGIN pipe-1");
    for (int i = 1; i <= 1000; i++) redisAppendCommand(partner, "ACCRUE b-%d M1 %s amount=1.00 currency=USD", i, today);
    redisAppendCommand(partner, "BATCH COMMIT");
    int queued = 0;
    for (int i = 0; i < 1001; i++) {
        if (redisGetReply(partner, (void **)&r) != REDIS_OK) check("batch-pipeline-1000", 0, NULL);
        queued += i > 0 && isStatus(r, "QUEUED");
        freeReplyObject(r);
    }
    redisGetReply(partner, (void **)&r);
    check("batch-pipeline-1000", queued == 1000 && r->type == REDIS_REPLY_ARRAY && r->elements == 4
          && isBulk(r->element[0], "pipe-1") && isInteger(r->element[1], 1000) && isInteger(r->element[2], 0)
          && isInteger(r->element[3], 0), r);
    freeReplyObject(r);

    redisContext *agent = connectAs("agent:demo", agentSecret, &r);
    freeReplyObject(r);
    r = redisCommand(agent, "BALANCE M1");
    check("agent-balance", isInteger(r, 1100), r);
    freeReplyObject(r);
    r = redisCommand(agent, "CLIENT LIST");
    check("client-name", r->type == REDIS_REPLY_STRING && strstr(r->str, " name=partner-hiredis ") != NULL, r);
    freeReplyObject(r);
    r = redisCommand(agent, "BALANCE M404");
    check("error-reply", isError(r, "NOTFOUND"), r);
    freeReplyObject(r);

    redisContext *member = connectAs("member:M1", "1234", &r);
    freeReplyObject(r);
    r = redisCommand(member, "STATEMENT M1 LIMIT 5");
    check("member-statement", r->type == REDIS_REPLY_ARRAY && r->elements == 5 && r->element[0]->elements == 7
          && isBulk(r->element[0]->element[2], "accrual") && isInteger(r->element[0]->element[3], 1)
          && isBulk(r->element[0]->element[5], "CARDCO"), r);
    freeReplyObject(r);
    redisReply *first = redisCommand(member, "REDEEM r-1 M1 POINTS 100");
    redisReply *again = redisCommand(member, "REDEEM r-1 M1 POINTS 100");
    check("member-redeem-replay", first->type == REDIS_REPLY_ARRAY && again->type == REDIS_REPLY_ARRAY
          && strcmp(first->element[0]->str, again->element[0]->str) == 0 && isInteger(first->element[1], 100)
          && isInteger(first->element[2], 1000) && isInteger(again->element[2], 1000), first);
    freeReplyObject(first);
    freeReplyObject(again);
    r = redisCommand(member, "MEMBER M1");
    int available = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        available |= isBulk(r->element[i], "available") && isBulk(r->element[i + 1], "1000");
    }
    check("member-fields", available, r);
    freeReplyObject(r);

    redisFree(member);
    redisFree(agent);
    redisFree(partner);
    printf("done\n");
    return 0;
}
