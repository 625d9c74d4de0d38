// One value column of an uploaded CSV as (time, value) points, read the way its upload
// profile says (separator, decimal mark, header, timestamp column and format).
export interface CsvProfileLike {
  separator: string;
  decimalMark: string;
  hasHeader: boolean;
  timestampColumn: string;
  timestampFormat: string; // "ISO8601" or a strftime pattern such as "%d.%m.%Y %H:%M"
  timestampsHaveZone: boolean;
}

// A parser for a strftime pattern made of %Y %m %d %H %M %S and literal characters.
export function strftimeParser(pattern: string): (text: string) => number {
  const fields: string[] = [];
  const source = pattern.replace(/%([YmdHMS])|([.*+?^${}()|[\]\\])/g, (_, f, lit) => {
    if (lit) return "\\" + lit;
    fields.push(f);
    return f === "Y" ? "(\\d{4})" : "(\\d{1,2})";
  });
  const re = new RegExp("^" + source + "$");
  return (text) => {
    const m = re.exec(text.trim());
    if (!m) return NaN;
    const v: Record<string, number> = { Y: 1970, m: 1, d: 1, H: 0, M: 0, S: 0 };
    fields.forEach((f, i) => (v[f] = Number(m[i + 1])));
    return Date.UTC(v.Y, v.m - 1, v.d, v.H, v.M, v.S);
  };
}

export function timeParser(profile: CsvProfileLike): (text: string) => number {
  if (profile.timestampFormat && profile.timestampFormat !== "ISO8601") return strftimeParser(profile.timestampFormat);
  return (text) => {
    let t = text.trim().replace(" ", "T");
    if (!/(Z|[+-]\d\d:?\d\d)$/i.test(t)) t += "Z"; // no zone: UTC, as the profile reads it
    return Date.parse(t);
  };
}

export function parseSeries(text: string, profile: CsvProfileLike, column: string): { timesMs: number[]; values: number[] } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  const sep = profile.separator || ",";
  const header = profile.hasHeader ? lines[0].split(sep).map((h) => h.trim().replace(/^"|"$/g, "")) : [];
  const body = profile.hasHeader ? lines.slice(1) : lines;
  const timeIndex = Math.max(0, header.indexOf(profile.timestampColumn));
  let valueIndex = column ? header.indexOf(column) : -1;
  if (valueIndex < 0) valueIndex = timeIndex === 0 ? 1 : 0;
  const parseTime = timeParser(profile);
  const timesMs: number[] = [];
  const values: number[] = [];
  for (const line of body) {
    const cells = line.split(sep);
    const t = parseTime((cells[timeIndex] ?? "").replace(/^"|"$/g, ""));
    let raw = (cells[valueIndex] ?? "").trim().replace(/^"|"$/g, "");
    if (profile.decimalMark === ",") raw = raw.replace(",", ".");
    const v = raw === "" ? NaN : Number(raw);
    if (Number.isFinite(t)) {
      timesMs.push(t);
      values.push(v);
    }
  }
  return { timesMs, values };
}
