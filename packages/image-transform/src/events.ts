/**
 * Every event image-transform reports, as tagged unions: a renderer that switches on `type`
 * is checked by the compiler (a misspelt or removed event name does not compile).
 */
import type { CrawlEvent } from '@meph/di-crawler';
import type { BootStage } from './boot/boot-test.js';
import type { PxeFirmware, PxeStage } from './boot/pxe-boot.js';

/** A progress tick (rendered as an updating line on a terminal). */
export type ProgressEvent = {
  type: 'progress';
  step: string;
  done: number;
  total?: number;
  unit: 'bytes' | 'files' | 'steps' | 'versions' | '%';
};

/** A named pipeline step starting, ending, or saying what it does. */
export type StepEvent =
  | { type: 'step'; step: string; state: 'start'; package?: string }
  | { type: 'step'; step: string; state: 'done'; seconds?: number; verflav?: string }
  | { type: 'step'; step: string; detail: string };

/** A line of a tool's output worth keeping (apt, the converter, customisation). */
export type LogEvent = {
  type: 'log';
  step: string;
  message: string;
};

export type WarningEvent = {
  type: 'warning';
  message: string;
};

/** Left-overs of an earlier run that did not finish, removed. */
export type CleanupEvent = { type: 'cleanup'; device: string; reason: string } | { type: 'cleanup'; dir: string; reason: string };

/** What a converter reports while it works (`ConvertRequest.onEvent`). */
export type ConverterEvent = ProgressEvent | StepEvent | LogEvent | WarningEvent | CleanupEvent;

/** What the d-i crawl of a build or sync reports. */
export type DiCrawlEvent = CrawlEvent | StepEvent | WarningEvent;

/** What `buildVersion` reports (meph2-build). */
export type BuildEvent =
  | ConverterEvent
  | DiCrawlEvent
  | { type: 'plan'; arch: string; release: string; version: string; products: number; files: number }
  | { type: 'stale-removed'; paths: string[] }
  | { type: 'converter-skipped'; reason: string; files: number }
  | { type: 'converter-start'; converter: string; source: string; kernels: number }
  | { type: 'converter-done'; converter: string; seconds: number }
  | { type: 'data-written'; files: number }
  | { type: 'di-items-written'; files: number }
  | { type: 'item-built'; productId: string; version: string; item: string; path: unknown; size: unknown; sha256: unknown }
  | { type: 'products-written'; path: string; products: number }
  | { type: 'index-written'; path: string }
  | { type: 'flat-json-written'; path: string; items: number };

/** The build a sync event is about (added to every event of that build). */
export type BuildJobTag = {
  release: string;
  arch: string;
  version: string;
};

/** What `runSync` reports (meph2-cloudimg-sync): its own events and those of every build, tagged with the build. */
export type SyncEvent =
  | (BuildEvent & BuildJobTag)
  | DiCrawlEvent
  | ProgressEvent
  | { type: 'release-ignored'; release: string; reason: string }
  | { type: 'product-skipped'; product: string; reason: string }
  | { type: 'version-skipped'; release: string; arch: string; sourceVersion: string; version: string; reason: 'already-built' }
  | { type: 'version-planned'; release: string; arch: string; sourceVersion: string; version: string; source: string }
  | { type: 'build-start'; release: string; arch: string; version: string; sourceVersion: string }
  | { type: 'build-done'; release: string; arch: string; version: string; products: number }
  | { type: 'build-failed'; release: string; arch: string; version: string; sourceVersion: string; message: string }
  | { type: 'stream-untouched'; path: string; reason: string }
  | { type: 'products-written'; path: string; products: number; newVersions: number };

/** What `bootTest` reports: each stage reached, the root check with what it found. */
export type BootTestEvent =
  | { type: 'boot-stage'; stage: Exclude<BootStage, 'root-check'>; seconds: number }
  | { type: 'boot-stage'; stage: 'root-check'; seconds: number; fstype: string; source: string };

/** What `pxeBootTest` reports: the boot starting, each stage, every request to the rack's HTTP server. */
export type PxeBootEvent =
  | { type: 'pxe-boot-start'; firmware: PxeFirmware; bootfile: string; rack: string; cmdline: string }
  | { type: 'boot-stage'; stage: PxeStage; seconds: number; bytes?: number }
  | { type: 'http-request'; path: string; status: 200 | 404; seconds: number }
  | { type: 'http-served'; path: string; bytes: number; seconds: number };
