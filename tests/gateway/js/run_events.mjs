// A browser app following a training run over grpc-web, written against the code that
// protoc-gen-es generates and @connectrpc/connect-web's transport: CreateRun (a Dense
// model of a few epochs on a dataset the test built), then WatchRun, noting each
// event's sequence, kind, server time and the client's Date.now() when it arrived.
// The run is created here, right before the watch, so the watch is open while the
// worker trains: a run created earlier by the test could be over by the time Node or
// Chromium has started, and its events would all be replayed at once.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { RunState } from "../../../.build/es/tsforge/training/v1/training_resources_pb.js";
import { TrainingService } from "../../../.build/es/tsforge/training/v1/training_service_pb.js";

function millis(timestamp) {
  return timestamp ? Number(timestamp.seconds) * 1000 + timestamp.nanos / 1e6 : null;
}

export async function runScenario({ baseUrl, token, dataset, neural }) {
  const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
  const client = createClient(TrainingService, transport);
  const headers = { authorization: `Bearer ${token}` };

  const createdAt = Date.now();
  const { run } = await client.createRun({
    run: { dataset, modelSpecs: [{ modelId: "dense", params: { case: "dense", value: { neural } } }] },
  }, { headers, timeoutMs: 10000 });

  const events = [];
  for await (const { event } of client.watchRun({ name: run.name }, { headers, timeoutMs: 120000 })) {
    const arrivedAt = Date.now();
    const entry = { sequence: Number(event.sequence), kind: event.event.case, time: millis(event.time), arrivedAt };
    if (event.event.case === "stateChange") entry.state = RunState[event.event.value.state];
    if (event.event.case === "epochEnd") entry.epoch = event.event.value.metrics?.epoch;
    events.push(entry);
  }
  return { run: run.name, createdAt, events };
}
