import { describe, expect, it } from "vitest";
import { tokenFromFragment, tokenClaims } from "../auth/token";
import { parseSeries, strftimeParser } from "./csvSeries";
import { parseRoute, href } from "./router";
import { histogram, stepOffsetsMinutes } from "../evaluation/tables";
import { problemsFor, unclaimed } from "../api/errors";
import { limiter } from "./limit";

describe("sign-in link", () => {
  it("takes the token out of the fragment and keeps the route", () => {
    expect(tokenFromFragment("#token=abc.def")).toEqual({ token: "abc.def", rest: "" });
    expect(tokenFromFragment("#/runs/x&token=a%2Bb")).toEqual({ token: "a+b", rest: "#/runs/x" });
    expect(tokenFromFragment("#/files")).toEqual({ token: null, rest: "#/files" });
  });
  it("reads the tenant from the token without trusting it", () => {
    const payload = btoa(JSON.stringify({ sub: "demo", exp: 1 })).replace(/=+$/, "");
    expect(tokenClaims(`h.${payload}.s`)).toEqual({ sub: "demo", exp: 1 });
    expect(tokenClaims("garbage")).toBeNull();
  });
});

describe("routes", () => {
  it("parses and builds hash routes", () => {
    const r = parseRoute("#/sessions/abc?dataset=sessions%2Fabc%2Fdatasets%2Fd");
    expect([r.page, r.id, r.params.get("dataset")]).toEqual(["sessions", "abc", "sessions/abc/datasets/d"]);
    expect(parseRoute("").page).toBe("files");
    expect(href("runs", "r1", { a: "b" })).toBe("#/runs/r1?a=b");
  });
});

describe("field problems", () => {
  const fields = [
    { field: "session.spec.window.input_steps", description: "a" },
    { field: "session.spec.inputs[0].file", description: "b" },
    { field: "session.spec.split", description: "c" },
  ];
  it("belong to a field and to what lies below it", () => {
    expect(problemsFor(fields, "session.spec.window.input_steps").map((f) => f.description)).toEqual(["a"]);
    expect(problemsFor(fields, "session.spec.inputs").map((f) => f.description)).toEqual(["b"]);
    expect(problemsFor(fields, "session.spec.window.input").length).toBe(0);
    expect(unclaimed(fields, ["session.spec.window.input_steps", "session.spec.split"]).map((f) => f.description)).toEqual(["b"]);
  });
});

describe("CSV series", () => {
  it("reads a semicolon file with a strftime time format and a decimal comma", () => {
    const text = "time;load\n01.01.2024 00:00;1,5\n01.01.2024 01:00;2,5\n";
    const s = parseSeries(text, { separator: ";", decimalMark: ",", hasHeader: true, timestampColumn: "time", timestampFormat: "%d.%m.%Y %H:%M", timestampsHaveZone: false }, "load");
    expect(s.values).toEqual([1.5, 2.5]);
    expect(s.timesMs).toEqual([Date.UTC(2024, 0, 1, 0), Date.UTC(2024, 0, 1, 1)]);
    expect(strftimeParser("%Y-%m-%d %H:%M:%S")("2024-02-03 04:05:06")).toBe(Date.UTC(2024, 1, 3, 4, 5, 6));
  });
  it("reads ISO times without a zone as UTC", () => {
    const s = parseSeries("t,v\n2024-01-01T00:00:00,1\n2024-01-01 01:00:00+01:00,2\n", { separator: ",", decimalMark: ".", hasHeader: true, timestampColumn: "t", timestampFormat: "ISO8601", timestampsHaveZone: false }, "");
    expect(s.timesMs).toEqual([Date.UTC(2024, 0, 1, 0), Date.UTC(2024, 0, 1, 0)]);
  });
});

describe("evaluation helpers", () => {
  it("places forecast steps along the horizon", () => {
    expect(stepOffsetsMinutes(0, 3, 3)).toEqual([60, 120, 180]);
  });
  it("bins residuals", () => {
    const h = histogram([0, 1, 1, 2, 10], 5);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(h.counts).toEqual([3, 1, 0, 0, 1]);
  });
});

describe("stream limiter", () => {
  it("runs at most n tasks at once", async () => {
    const run = limiter(2);
    let open = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 6 }, () => run(async () => {
      open++; most = Math.max(most, open);
      await new Promise((r) => setTimeout(r, 5));
      open--;
    })));
    expect(most).toBe(2);
  });
});
