// The memory budget (README, "Memory budget"): the heap and the resident memory the service's byte
// bounds let it reach, from constants measured by bench/memory_budget.ts, and the start-up check that
// refuses a V8 heap limit (or a platform's memory cap) below them.
import { getHeapStatistics } from "node:v8";

/**
 * The byte bounds the budget is computed from, each keyed by the setting that sets it, so a refusal
 * can name them.
 */
export interface MemoryBounds {
  /** Bytes of request bodies read, parsed and stored at once (BATCH_BYTES_IN_FLIGHT). */
  bodyBytesInFlight: number;
  /**
   * The publishing byte bounds (the channel, one relay claim, one message to the worker): bytes of
   * events held for publishing, by setting. @default {}
   */
  publishingBytes?: Record<string, number>;
  /**
   * Other bytes the HTTP thread may hold outside the body budget (the console's forms, the JUnit
   * parser's text), by setting. @default {}
   */
  httpBytes?: Record<string, number>;
  /** Publishing runs in a worker thread, whose heap is limited on its own. @default true */
  publishingInWorker?: boolean;
}

/** Constants of the formula, measured on this project's machine (bench/memory_budget.ts). */
export interface MemoryConstants {
  /** Heap one thread uses after start-up and a warm-up. */
  heapBaseBytes: number;
  /** Heap per byte of JSON body in flight (body, text, parsed items, records, statement arrays). */
  heapPerBodyByte: number;
  /** Heap per byte held as parsed events or text, beyond the body budget. */
  heapPerHeldByte: number;
  /** Resident memory after start-up and a warm-up: both threads, the runtime, its code. */
  rssBaseBytes: number;
  /** Resident memory per byte of body in flight, garbage not yet collected included. */
  rssPerBodyByte: number;
  /** The room a heap limit needs above the live peak for the collector to keep up. */
  headroom: number;
}

/**
 * The constants measured on 2026-12-07 (`./dev memory:budget`, docs/memory.md), rounded up: a warm
 * HTTP thread holds 20 to 30 MB of heap and 123 to 134 MB of RSS; bodies in flight raised the heap
 * seen by 2.2 to 4.0 bytes and the RSS by 4.4 to 7.5 bytes per body byte (up to 10.7 with few bytes in
 * flight, still under the total); parsed small events hold 1.1 heap bytes per JSON byte (2 covers their
 * record form and the copy in a message).
 */
export const MEASURED: MemoryConstants = {
  heapBaseBytes: 30e6,
  heapPerBodyByte: 4,
  heapPerHeldByte: 2,
  rssBaseBytes: 135e6,
  rssPerBodyByte: 7,
  headroom: 1.25,
};

/** What the bounds let the service reach, with the terms it was summed from. */
export interface MemoryBudget {
  /** The V8 heap limit each thread needs (--max-old-space-size), headroom included. */
  heapBytes: number;
  /** The resident memory the process may reach. */
  rssBytes: number;
  /** The settings that make up the budget, with their values. */
  settings: Record<string, number>;
}

const sum = (bytes: Record<string, number>) => Object.values(bytes).reduce((a, b) => a + b, 0);

/** Computes the budget of `bounds` with `constants`. */
export function memoryBudget(
  bounds: MemoryBounds,
  constants: MemoryConstants = MEASURED,
): MemoryBudget {
  const publishing = sum(bounds.publishingBytes ?? {}) * constants.heapPerHeldByte;
  const held = sum(bounds.httpBytes ?? {}) * constants.heapPerHeldByte;
  const bodies = bounds.bodyBytesInFlight * constants.heapPerBodyByte;
  const inWorker = bounds.publishingInWorker ?? true;
  // Each thread's heap has the flag's limit: the worker holds what publishing holds, the HTTP
  // thread the bodies (and publishing too when there is no worker).
  const http = constants.heapBaseBytes + bodies + held + (inWorker ? 0 : publishing);
  const worker = inWorker ? constants.heapBaseBytes + publishing : 0;
  return {
    heapBytes: Math.ceil(Math.max(http, worker) * constants.headroom),
    rssBytes: Math.ceil(
      constants.rssBaseBytes + bounds.bodyBytesInFlight * constants.rssPerBodyByte + publishing +
        held,
    ),
    settings: {
      BATCH_BYTES_IN_FLIGHT: bounds.bodyBytesInFlight,
      ...bounds.publishingBytes,
      ...bounds.httpBytes,
    },
  };
}

/** The limits the budget must fit in. */
export interface MemoryLimits {
  /** V8's heap limit (node:v8 getHeapStatistics().heap_size_limit). */
  heapLimitBytes: number;
  /** A cap on the process's memory, such as Deno Deploy's; none when absent. */
  memoryCapBytes?: number;
  /** Where the cap comes from, for the message. @default "the platform" */
  memoryCapName?: string;
}

const MB = (bytes: number) => `${Math.ceil(bytes / 1e6)} MB`;

/**
 * Why the budget does not fit the limits: one sentence naming the settings and the limit, or
 * undefined when it fits.
 */
export function budgetProblem(budget: MemoryBudget, limits: MemoryLimits): string | undefined {
  const settings = Object.entries(budget.settings).map(([name, value]) => `${name}=${value}`)
    .join(", ");
  if (limits.heapLimitBytes < budget.heapBytes) {
    return `Cannot start: the V8 heap limit (${MB(limits.heapLimitBytes)}) is below the ` +
      `${MB(budget.heapBytes)} that ${settings} need (README, "Memory budget"); raise ` +
      "--v8-flags=--max-old-space-size (the limit is it plus the young generation) or lower " +
      "those settings";
  }
  if (limits.memoryCapBytes !== undefined && limits.memoryCapBytes < budget.rssBytes) {
    return `Cannot start: ${limits.memoryCapName ?? "the platform"} caps memory at ` +
      `${MB(limits.memoryCapBytes)}, below the ${MB(budget.rssBytes)} that ${settings} may reach ` +
      `(README, "Memory budget"); lower those settings`;
  }
  return undefined;
}

/**
 * A warning when V8's heap may grow past a memory cap before it collects: without V8 flags (as on
 * Deno Deploy) V8 sizes its heap from the machine and lets garbage pile up long before its limit.
 */
export function heapAboveCapWarning(
  limits: MemoryLimits,
  constants: MemoryConstants = MEASURED,
): string | undefined {
  if (limits.memoryCapBytes === undefined) return undefined;
  const room = limits.memoryCapBytes - (constants.rssBaseBytes - constants.heapBaseBytes);
  if (limits.heapLimitBytes <= room) return undefined;
  return `The V8 heap limit (${MB(limits.heapLimitBytes)}) is above what fits in ` +
    `${limits.memoryCapName ?? "the platform"}'s ${MB(limits.memoryCapBytes)} beside the rest of ` +
    "the process: garbage may pile up past the cap before V8 collects it. Set " +
    'DENO_V8_FLAGS=--max-old-space-size=160,--max-semi-space-size=8 (README, "Memory budget")';
}

/** Deno Deploy's memory cap per instance (Deploy Classic's documented 512 MB; no V8 flags there). */
export const DENO_DEPLOY_MEMORY_BYTES = 512e6;

/** This process's limits: V8's heap limit, and Deno Deploy's cap when running there. */
export function currentLimits(onDenoDeploy: boolean): MemoryLimits {
  return {
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    ...(onDenoDeploy
      ? { memoryCapBytes: DENO_DEPLOY_MEMORY_BYTES, memoryCapName: "Deno Deploy" }
      : {}),
  };
}

/** The start-up check: a problem that must stop the service, or a warning to log. */
export function memoryCheck(
  bounds: MemoryBounds,
  onDenoDeploy: boolean,
): { problem?: string; warning?: string } {
  const limits = currentLimits(onDenoDeploy);
  return {
    problem: budgetProblem(memoryBudget(bounds), limits),
    warning: heapAboveCapWarning(limits),
  };
}
