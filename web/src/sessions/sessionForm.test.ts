import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ResamplingMethod } from "../gen/tsforge/common/v1/common_pb";
import { SessionSchema, SplitMethod } from "../gen/tsforge/training/v1/training_resources_pb";
import { defaultSessionForm, fromSession, newLagRow, seasonalLagHours, toSessionInit, type SessionForm } from "./sessionForm";

function filled(): SessionForm {
  const form = defaultSessionForm();
  form.displayName = " load ";
  form.inputs[0] = { ...form.inputs[0], file: "files/t", horizonStart: "-6", resampling: "MEAN" };
  form.outputs[0] = { ...form.outputs[0], file: "files/l", column: "load", horizonEnd: "3", scalingMin: "-1" };
  form.inputSteps = "6";
  form.outputSteps = "3";
  form.calendar = { ...form.calendar, day: true, holiday: true, holidayCountry: "at", holidaySubdivision: "9", timeZone: "Europe/Vienna" };
  form.split = { train: "0.6", validation: "0.2", test: "0.2", method: "SHUFFLED", seed: "42" };
  return form;
}

describe("session form ⇄ CreateSession", () => {
  it("shows the contract's defaults", () => {
    const f = defaultSessionForm();
    expect([f.inputs[0].horizonStart, f.inputs[0].horizonEnd, f.outputs[0].horizonStart, f.outputs[0].horizonEnd]).toEqual(["-24", "0", "0", "24"]);
    expect([f.inputSteps, f.outputSteps, f.stepMinutes, f.offsetMinutes]).toEqual(["24", "24", "60", "0"]);
    expect([f.split.train, f.split.validation, f.split.test, f.split.method]).toEqual(["0.7", "0.2", "0.1", "CHRONOLOGICAL"]);
    expect(f.calendar.timeZone).toBe("UTC");
    expect(f.inputs[0].resampling).toBe("LINEAR");
    expect([f.inputs[0].scalingMin, f.inputs[0].scalingMax]).toEqual(["0", "1"]);
  });

  it("maps every field onto the request", () => {
    const { session, problems } = toSessionInit(filled());
    expect(problems).toEqual([]);
    const message = create(SessionSchema, session);
    expect(message.displayName).toBe("load");
    expect(message.spec!.inputs[0].horizon).toMatchObject({ start: -6, end: 0 });
    expect(message.spec!.inputs[0].resampling).toBe(ResamplingMethod.MEAN);
    expect(message.spec!.outputs[0].column).toBe("load");
    expect(message.spec!.outputs[0].scaling).toMatchObject({ min: -1, max: 1 });
    expect(message.spec!.window).toMatchObject({ inputSteps: 6, outputSteps: 3, stepMinutes: 60, offsetMinutes: 0 });
    expect(message.spec!.calendar).toMatchObject({ day: true, holiday: true, holidayCountry: "AT", holidaySubdivision: "9", timeZone: "Europe/Vienna" });
    expect(message.spec!.split).toMatchObject({ trainFraction: 0.6, testFraction: 0.2, method: SplitMethod.SHUFFLED, seed: 42n });
    // And it survives the wire.
    expect(fromBinary(SessionSchema, toBinary(SessionSchema, message)).spec!.window!.inputSteps).toBe(6);
  });

  it("round-trips through a stored session", () => {
    const form = filled();
    const message = create(SessionSchema, toSessionInit(form).session);
    const back = fromSession(message);
    expect(create(SessionSchema, toSessionInit(back).session)).toEqual(message);
    expect(back.inputs[0].resampling).toBe("MEAN");
    expect(back.split.method).toBe("SHUFFLED");
  });

  it("names what it cannot send by the paths the service uses", () => {
    const form = filled();
    form.displayName = "";
    form.inputSteps = "six";
    form.stepMinutes = "1.5";
    form.outputs[0].horizonEnd = "x";
    form.split.seed = "abc";
    expect(toSessionInit(form).problems.map((p) => p.field)).toEqual([
      "session.spec.outputs[0].horizon",
      "session.spec.window.input_steps",
      "session.spec.window.step_minutes",
      "session.spec.split.seed",
      "session.display_name",
    ]);
  });

  it("leaves holiday settings out unless holidays are on, and empty numbers to the service's defaults", () => {
    const form = filled();
    form.calendar.holiday = false;
    form.offsetMinutes = "";
    const { session } = toSessionInit(form);
    const m = create(SessionSchema, session);
    expect(m.spec!.calendar!.holidayCountry).toBe("");
    expect(m.spec!.window!.offsetMinutes).toBe(0);
  });

  it("maps seasonal lags and the calendar at the output steps", () => {
    const form = filled();
    form.lags = [newLagRow("24"), { ...newLagRow("168"), file: "files/t", feature: "temp week", resampling: "MEAN", scalingMin: "-1" }];
    form.futureCalendar = { ...form.futureCalendar, day: true, week: true, holiday: true, holidayCountry: "at", timeZone: "Europe/Vienna" };
    const { session, problems } = toSessionInit(form);
    expect(problems).toEqual([]);
    const m = create(SessionSchema, session);
    expect(m.spec!.lags.map((l) => [l.file, l.column, l.feature, l.lagHours, l.resampling])).toEqual([
      ["", "", "", 24, ResamplingMethod.UNSPECIFIED], // the first output's file and column, its resampling
      ["files/t", "", "temp week", 168, ResamplingMethod.MEAN],
    ]);
    expect(m.spec!.lags[1].scaling).toMatchObject({ min: -1, max: 1 });
    expect(m.spec!.futureCalendar).toMatchObject({ day: true, week: true, year: false, holiday: true, holidayCountry: "AT", timeZone: "Europe/Vienna" });
    // Round trip through a stored session.
    const back = fromSession(m);
    expect(back.lags[0].resampling).toBe("");
    expect(back.futureCalendar.week).toBe(true);
    expect(create(SessionSchema, toSessionInit(back).session)).toEqual(m);
  });

  it("names a lag's problems by its index", () => {
    const form = filled();
    form.lags = [newLagRow("24"), newLagRow(""), newLagRow("a day")];
    expect(toSessionInit(form).problems.map((p) => p.field)).toEqual(["session.spec.lags[1].lag_hours", "session.spec.lags[2].lag_hours"]);
    expect(defaultSessionForm().lags).toEqual([]);
  });

  it("suggests a season's lag that is known at the reference time", () => {
    const outputs = filled().outputs; // horizon 0..3 h
    expect(seasonalLagHours(24, outputs)).toBe(24);
    expect(seasonalLagHours(168, outputs)).toBe(168);
    expect(seasonalLagHours(24, [{ ...outputs[0], horizonEnd: "30" }])).toBe(48);
  });
});

