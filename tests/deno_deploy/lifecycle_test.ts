// The serverless lifecycle on the oldest Deno the README claims, against the real PostgreSQL and
// Kafka: instances start only for the request (or cron run) that finds none, stop by SIGINT (Deno
// Deploy's idle stop), SIGTERM or SIGKILL, and every stored execution still reaches the topic.
import assert from "node:assert/strict";
import {
  consumeTopic,
  createTopic,
  DATABASE_URL,
  dropSchema,
  eventually,
  executions,
  KAFKA_BROKERS,
  pendingEvents,
  postBatch,
  storedIds,
  uniqueName,
} from "../_helpers.ts";
import { denoVersion, type Instance, logged, oldestDeno, startInstance } from "./_platform.ts";

/** Deno Deploy gives a stopping instance 5 s between SIGINT and SIGKILL. */
const DEPLOY_GRACE_MS = 5000;

Deno.test("instances that start on demand and stop by SIGINT, SIGTERM and SIGKILL lose no event, and the cron job publishes what a killed one left", async () => {
  const deno = await oldestDeno();
  const version = await denoVersion(deno);
  const schema = uniqueName("life");
  const topic = uniqueName("life");
  await createTopic(topic, 3);
  // What Deploy sets (DENO_DEPLOYMENT_ID) and what the application's settings hold.
  const env = {
    DENO_DEPLOYMENT_ID: `lifecycle-${schema}`,
    DATABASE_URL,
    DB_SCHEMA: schema,
    KAFKA_BROKERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    OUTBOX_LEASE_MS: "5000",
    CONSOLE_SESSION_SECRET: `lifecycle-console-secret-${schema}`.padEnd(32, "-"),
    LOG_LEVEL: "info",
    // Deno Deploy refuses to start without a key.
    API_KEYS: "lifecycle-key-0123",
  };
  const instances: Instance[] = [];
  // The instance serving requests, or starting for the first of them (requests arriving together
  // all wait for that one start, as on the platform).
  let current: Promise<Instance> | undefined;
  /** A request: served by the running instance, or by one started for it. */
  const post = async (items: unknown[]) => {
    current ??= startInstance(deno, `instance ${instances.length + 1}`, env).then((started) => {
      instances.push(started);
      return started;
    });
    const instance = await current;
    const response = await postBatch(instance.url, items, {
      authorization: "Bearer lifecycle-key-0123",
    });
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body).slice(0, 500));
    return body;
  };
  const stop = async (signal: Deno.Signal) => {
    const ended = await (await current!).stop(signal);
    current = undefined;
    return ended;
  };

  try {
    // 1. Traffic, then none: the platform stops the idle instance with SIGINT.
    for (let i = 0; i < 3; i++) await post(executions(1000));
    const idle = await stop("SIGINT");
    assert.equal(idle.code, 0);
    assert.ok(idle.ms < DEPLOY_GRACE_MS, `SIGINT to exit took ${idle.ms} ms`);

    // 2. The next request starts a fresh instance; it is stopped with SIGTERM.
    for (let i = 0; i < 2; i++) await post(executions(1000));
    const terminated = await stop("SIGTERM");
    assert.equal(terminated.code, 0);
    assert.ok(terminated.ms < DEPLOY_GRACE_MS, `SIGTERM to exit took ${terminated.ms} ms`);

    // 3. Another fresh instance stores 10,000 executions and is killed as soon as they are
    // answered: it never sees another request, and holds events it has not published.
    await Promise.all([post(executions(5000)), post(executions(5000))]);
    const killed = await stop("SIGKILL");
    assert.notEqual(killed.code, 0);
    const leftByKilled = await pendingEvents(schema);
    assert.ok(leftByKilled > 0, "the killed instance left unpublished events in the outbox");

    // 4. No request comes. The platform starts an instance for the minute's cron run; its relay
    // timer is kept idle here (one pass at start, while the killed instance's leases still run),
    // so that only the cron job can take those events. Locally, Deno.cron fires on the minute.
    const cronInstance = await startInstance(deno, "cron instance", {
      ...env,
      OUTBOX_RELAY_INTERVAL_MS: "3600000",
    });
    instances.push(cronInstance);
    const firstRun = Math.ceil(Date.now() / 60_000) * 60_000;
    await eventually(() => logged(cronInstance, "Outbox catch-up done").length > 0, 75_000, 250);
    const [run] = logged(cronInstance, "Outbox catch-up done");
    assert.ok(Date.parse(run.time as string) >= firstRun, "the run came with the minute");
    assert.ok((run.handedOver as number) > 0, "the cron job's passes took the events");
    assert.equal(run.pendingLeft, 0, "and the run lasted until every one was published");
    assert.equal(await pendingEvents(schema), 0);
    const idleCron = await cronInstance.stop("SIGINT");
    assert.equal(idleCron.code, 0);

    // 5. Traffic again: a fresh instance, whose own events go out as usual.
    await post(executions(1000));
    await eventually(async () => (await pendingEvents(schema)) === 0, 30_000, 250);
    assert.equal((await stop("SIGINT")).code, 0);

    for (const instance of instances) {
      assert.equal(logged(instance, "Deno.cron runs the outbox catch-up").length, 1, instance.name);
      const listening = logged(instance, "execution-ingest is listening")[0];
      assert.equal(listening?.url, instance.url, `${instance.name} listens where Deploy said`);
    }
    const stored = await storedIds(schema);
    assert.equal(stored.length, 16_000);
    const messages = await consumeTopic(topic, stored.length, 60_000);
    const onTopic = new Set(messages.map((message) => message.headers.ce_id));
    const missing = stored.filter((id) => !onTopic.has(id));
    assert.deepEqual(missing, [], `${missing.length} stored executions never reached the topic`);
    console.log(
      `lifecycle on ${version}: ${instances.length} instances (port open after ${
        instances.map((i) => Math.round(i.startMs)).join(", ")
      } ms); ${stored.length} stored, ${onTopic.size} distinct on the topic in ${messages.length} ` +
        `messages (${messages.length - onTopic.size} sent twice); the SIGKILLed instance left ` +
        `${leftByKilled} unpublished, the cron run handed over ${run.handedOver} in ${run.passes} ` +
        `passes (${run.durationMs} ms); SIGINT exit ${Math.round(idle.ms)} ms, SIGTERM exit ${
          Math.round(terminated.ms)
        } ms`,
    );
  } finally {
    for (const instance of instances) await instance.stop("SIGKILL").catch(() => {});
    await dropSchema(schema);
  }
});
