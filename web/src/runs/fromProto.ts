// WatchRun's messages as the plain events the run view folds.
import { ModelType } from "../gen/tsforge/common/v1/common_pb";
import { ModelState, RunState, type RunEvent } from "../gen/tsforge/training/v1/training_resources_pb";
import { durationSeconds, enumName, timestampMs } from "../lib/format";
import type { RunEventData, SequencedEvent } from "./runEvents";

export function runEventFromProto(event: RunEvent): SequencedEvent {
  return { sequence: Number(event.sequence), timeMs: timestampMs(event.time) ?? Date.now(), data: eventData(event) };
}

function eventData(event: RunEvent): RunEventData {
  const e = event.event;
  switch (e.case) {
    case "stateChange":
      return { kind: "stateChange", state: enumName(RunState, e.value.state), reason: e.value.reason };
    case "modelStarted":
      return { kind: "modelStarted", model: e.value.model, modelType: enumName(ModelType, e.value.modelType) };
    case "modelFinished":
      return {
        kind: "modelFinished", model: e.value.model, state: enumName(ModelState, e.value.state),
        failureReason: e.value.failureReason, durationSeconds: durationSeconds(e.value.duration) ?? 0,
      };
    case "epochEnd":
      return {
        kind: "epochEnd", model: e.value.model, epoch: e.value.metrics?.epoch ?? 0,
        loss: e.value.metrics?.loss ?? NaN, valLoss: e.value.metrics?.valLoss ?? null,
        totalEpochs: e.value.totalEpochs, etaSeconds: durationSeconds(e.value.eta),
      };
    case "batchProgress":
      return {
        kind: "batchProgress", model: e.value.model, epoch: e.value.epoch, batch: e.value.batch,
        totalBatches: e.value.totalBatches, loss: e.value.loss,
      };
    case "datasetBuildProgress":
      return {
        kind: "datasetBuildProgress", done: Number(e.value.done), total: Number(e.value.total),
        stage: e.value.stage, etaSeconds: durationSeconds(e.value.eta),
      };
    case "warning":
      return { kind: "warning", model: e.value.model, message: e.value.message };
    case "summary":
      return {
        kind: "summary", succeeded: e.value.succeededCount, failed: e.value.failedCount,
        cancelled: e.value.cancelledCount, skipped: e.value.skippedCount, bestModel: e.value.bestModel,
        durationSeconds: durationSeconds(e.value.duration) ?? 0,
      };
    case "error":
      return { kind: "error", model: e.value.model, code: e.value.code, message: e.value.message };
    default:
      return { kind: "unknown" };
  }
}
