import * as assert from "node:assert/strict";
import { asArray, asRecord, at, configOf, jsonValue, normalizeRegion, purposeTagValues, show, UNKNOWN } from "../../policy/support";

describe("policy support", () => {
  it("reads a dotted path: the value, undefined when a step is missing, unknown when a step is unknown", () => {
    const props = { tracingConfig: { mode: "Active" }, logging: UNKNOWN, list: [1] };

    assert.equal(at(props, "tracingConfig.mode"), "Active");
    assert.equal(at(props, "tracingConfig.missing"), undefined);
    assert.equal(at(props, "nothing.mode"), undefined);
    assert.equal(at(props, "logging.level"), UNKNOWN);
    assert.equal(at(props, "list.0"), undefined, "lists are not walked");
    assert.equal(at(undefined, "a"), undefined);
  });

  it("shows values for messages: unset, unknown, strings quoted, the rest as JSON", () => {
    assert.deepEqual([show(undefined), show(UNKNOWN), show("Suspended"), show(false), show(0), show({ a: 1 })], ["unset", "unknown", '"Suspended"', "false", "0", '{"a":1}']);
  });

  it("parses JSON text, passes other values through, and gives undefined for bad JSON", () => {
    assert.deepEqual(jsonValue('{"tags":{"a":"b"}}'), { tags: { a: "b" } });
    assert.deepEqual(jsonValue({ tags: {} }), { tags: {} });
    assert.equal(jsonValue("{bad"), undefined);
  });

  it("tells records from lists and scalars", () => {
    assert.deepEqual(asRecord({ a: 1 }), { a: 1 });
    assert.deepEqual([asRecord([1]), asRecord(null), asRecord("a")], [undefined, undefined, undefined]);
    assert.deepEqual(asArray([1]), [1]);
    assert.equal(asArray({ 0: 1 }), undefined);
  });

  it("merges policy config over the defaults, ignoring keys left null or undefined", () => {
    const defaults = { pattern: "upload", extra: [] as string[] };
    const config = (given: Record<string, unknown> | undefined) => configOf({ getConfig: <C extends object>() => given as C }, defaults);

    assert.deepEqual(config({ pattern: "original" }), { pattern: "original", extra: [] });
    assert.deepEqual(config({ pattern: null, extra: undefined }), defaults);
    assert.deepEqual(config(undefined), defaults);
  });

  it("compares regions without case or spaces, as Azure writes them both ways", () => {
    assert.equal(normalizeRegion("West Europe"), "westeurope");
    assert.equal(normalizeRegion("Germany West Central"), "germanywestcentral");
  });

  it("reads the purpose tags in a fixed order, whatever else is tagged", () => {
    assert.deepEqual(purposeTagValues({ role: "uploads", Name: "store", owner: "x" }), ["store", undefined, undefined, "uploads", undefined]);
    assert.deepEqual(purposeTagValues(undefined), [undefined, undefined, undefined, undefined, undefined]);
  });
});
