// Files: upload CSV files (resumable, chunked, hashed while read), list them with their
// profile and a preview, rename or describe them, delete them.
import { useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ConfirmButton, ErrorNotice, Field, Pager, Progress, usePager } from "../components/common";
import { FeatureRole } from "../gen/tsforge/common/v1/common_pb";
import type { File as TsFile } from "../gen/tsforge/upload/v1/upload_service_pb";
import { durationSeconds, enumName, formatBytes, formatDuration, formatNumber, formatTime, lastSegment } from "../lib/format";
import { metrics } from "../lib/metrics";
import { href, navigate, type Route } from "../lib/router";
import { ResumeStore } from "../upload/resumeStore";
import { isTransient, uploadCalls } from "../upload/uploadCalls";
import { Uploader, type UploadProgress } from "../upload/uploader";
import { browserHasher } from "../upload/hashing";
import { describeError, type FieldProblem } from "../api/errors";

const resumeStore = new ResumeStore(localStorage);

export function FilesPage({ route }: { route: Route }) {
  return (
    <>
      <h1>Files</h1>
      <UploadPanel />
      <UnfinishedUploads />
      <div className="split">
        <FileList selected={route.id ? `files/${route.id}` : ""} />
        {route.id && <FileDetail name={`files/${route.id}`} />}
      </div>
    </>
  );
}

interface Job {
  id: number;
  file: File;
  uploader: Uploader<TsFile>;
  progress: UploadProgress;
  error: unknown;
  result: TsFile | null;
  paused: boolean;
}

function chunkBytes(): number | undefined {
  const v = Number(localStorage.getItem("tsforge.uploadChunkBytes"));
  return v > 0 ? v : undefined;
}

function UploadPanel() {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [role, setRole] = useState<"INPUT" | "OUTPUT">("INPUT");
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const [jobs, setJobs] = useState<Job[]>([]);
  const [dragging, setDragging] = useState(false);
  const nextId = useRef(1);
  const inputRef = useRef<HTMLInputElement>(null);

  const update = (id: number, change: Partial<Job>) =>
    setJobs((all) => all.map((j) => (j.id === id ? { ...j, ...change } : j)));

  const start = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const id = nextId.current++;
      const calls = uploadCalls(clients, {
        role: FeatureRole[role], displayName: files.length === 1 ? displayName.trim() : "", description,
      });
      const uploader = new Uploader(file, calls, resumeStore, (progress) => update(id, { progress }), {
        chunkBytes: chunkBytes(), isTransient, hasher: browserHasher,
      });
      const job: Job = {
        id, file, uploader, error: null, result: null, paused: false,
        progress: { sentBytes: 0, totalBytes: file.size, bytesPerSecond: 0, etaSeconds: null, resumedFrom: 0, phase: "starting" },
      };
      setJobs((all) => [job, ...all]);
      const began = performance.now();
      uploader.run().then(
        (result) => {
          metrics().uploads.push({ name: file.name, bytes: file.size, seconds: (performance.now() - began) / 1000, ...uploader.timings });
          update(id, { result });
          queryClient.invalidateQueries();
        },
        (error) => update(id, { error }),
      );
    }
    setDisplayName("");
  };

  return (
    <section aria-labelledby="upload-heading" className="card">
      <h2 id="upload-heading">Upload CSV files</h2>
      <div className="form-row">
        <Field label="Role" help="Input: a feature the model sees. Output: what it must predict.">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as "INPUT" | "OUTPUT")}>
              <option value="INPUT">input</option>
              <option value="OUTPUT">output</option>
            </select>
          )}
        </Field>
        <Field label="Display name (optional)" help="Defaults to the file name without its extension.">
          {(p) => <input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
        </Field>
        <Field label="Description (optional)">
          {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
      </div>
      <div
        className={`dropzone ${dragging ? "dragging" : ""}`}
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => { e.preventDefault(); setDragging(false); if (e.dataTransfer.files.length) start(e.dataTransfer.files); }}
      >
        <p>Drop CSV files here, or</p>
        <label className="button" htmlFor="file-picker">Choose files…</label>
        <input id="file-picker" ref={inputRef} className="visually-hidden" type="file" multiple accept=".csv,text/csv,text/plain"
          onChange={(e) => { if (e.target.files?.length) start(e.target.files); e.target.value = ""; }} />
        <p className="help">An interrupted upload resumes where it stopped when you pick the same file again.</p>
      </div>
      {jobs.length > 0 && (
        <ul className="jobs" aria-label="Uploads in this tab">
          {jobs.map((job) => <UploadJob key={job.id} job={job} onPause={() => {
            if (job.uploader.isPaused) { job.uploader.resume(); update(job.id, { paused: false }); }
            else { job.uploader.pause(); update(job.id, { paused: true }); }
          }} />)}
        </ul>
      )}
    </section>
  );
}

function UploadJob({ job, onPause }: { job: Job; onPause: () => void }) {
  const p = job.progress;
  const done = !!job.result;
  return (
    <li className="job" data-upload-file={job.file.name} data-phase={done ? "done" : job.error ? "failed" : p.phase}>
      <div className="job-head">
        <strong>{job.file.name}</strong> <span>{formatBytes(job.file.size)}</span>
        {p.resumedFrom > 0 && <span className="note">resumed at {formatBytes(p.resumedFrom)}</span>}
        {!done && !job.error && (
          <button type="button" className="secondary" onClick={onPause}>{job.paused ? "Resume" : "Pause"}</button>
        )}
      </div>
      <Progress label={`Upload of ${job.file.name}`} value={p.sentBytes} max={p.totalBytes}
        text={`${formatBytes(p.sentBytes)} of ${formatBytes(p.totalBytes)}`} />
      <p className="job-status" aria-live="polite">
        {done ? (
          <>Uploaded: <a href={href("files", lastSegment(job.result!.name))}>{job.result!.displayName}</a>, {String(job.result!.profile?.rowCount ?? 0)} rows</>
        ) : job.error ? null : (
          <>{p.phase} · {formatBytes(p.bytesPerSecond)}/s · ETA {formatDuration(p.etaSeconds)}</>
        )}
      </p>
      <ErrorNotice error={job.error} title={`Upload of ${job.file.name} failed`} />
    </li>
  );
}

function UnfinishedUploads() {
  const clients = useClients();
  const queryClient = useQueryClient();
  const pager = usePager();
  const [error, setError] = useState<unknown>(null);
  const q = useQuery({
    queryKey: ["uploads", pager.token],
    queryFn: () => clients.upload.listUploads({ pageSize: 10, pageToken: pager.token }),
  });
  const uploads = q.data?.uploads ?? [];
  if (!uploads.length && pager.page === 1) return null;
  return (
    <section aria-labelledby="unfinished-heading" className="card">
      <h2 id="unfinished-heading">Unfinished uploads</h2>
      <p className="help">Pick the same file again to resume one; idle uploads are removed when they expire.</p>
      <ErrorNotice error={error} />
      <table>
        <thead><tr><th scope="col">File</th><th scope="col">Received</th><th scope="col">Expires</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {uploads.map((u) => (
            <tr key={u.name}>
              <td>{u.fileName}</td>
              <td>{formatBytes(u.receivedBytes)}{u.declaredSizeBytes ? ` of ${formatBytes(u.declaredSizeBytes)}` : ""}</td>
              <td>{formatTime(u.expireTime)}</td>
              <td>
                <ConfirmButton label="Abort" confirmLabel={`Abort upload of ${u.fileName}`} onConfirm={() =>
                  clients.upload.abortUpload({ name: u.name }).then(() => queryClient.invalidateQueries({ queryKey: ["uploads"] }), setError)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Unfinished uploads" />
    </section>
  );
}

function FileList({ selected }: { selected: string }) {
  const clients = useClients();
  const pager = usePager();
  const [role, setRole] = useState<FeatureRole>(FeatureRole.UNSPECIFIED);
  const q = useQuery({
    queryKey: ["files", role, pager.token],
    queryFn: () => clients.upload.listFiles({ pageSize: 20, pageToken: pager.token, role }),
  });
  useEffect(() => {
    if (q.data && metrics().firstFileListMs == null) metrics().firstFileListMs = performance.now();
  }, [q.data]);
  return (
    <section aria-labelledby="files-heading" className="card grow">
      <h2 id="files-heading">Your files</h2>
      <Field label="Show">
        {(p) => (
          <select {...p} value={role} onChange={(e) => { setRole(Number(e.target.value)); pager.reset(); }}>
            <option value={FeatureRole.UNSPECIFIED}>all roles</option>
            <option value={FeatureRole.INPUT}>inputs</option>
            <option value={FeatureRole.OUTPUT}>outputs</option>
          </select>
        )}
      </Field>
      <ErrorNotice error={q.error} title="Could not list files" />
      {q.isPending ? <p role="status">Loading files…</p> : (
        <div className="table-scroll">
          <table aria-label="Files" data-testid="file-list">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Rows</th><th scope="col">Size</th><th scope="col">Uploaded</th></tr>
            </thead>
            <tbody>
              {q.data?.files.map((f) => (
                <tr key={f.name} aria-selected={f.name === selected} className={f.name === selected ? "selected" : ""}>
                  <td><a href={href("files", lastSegment(f.name))}>{f.displayName}</a> <span className="muted">{f.fileName}</span></td>
                  <td>{enumName(FeatureRole, f.role).toLowerCase()}</td>
                  <td>{String(f.profile?.rowCount ?? 0)}</td>
                  <td>{formatBytes(f.sizeBytes)}</td>
                  <td>{formatTime(f.createTime)}</td>
                </tr>
              ))}
              {q.data?.files.length === 0 && <tr><td colSpan={5}>No files yet: upload one above.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Files" />
    </section>
  );
}

function FileDetail({ name }: { name: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const file = useQuery({ queryKey: ["file", name], queryFn: () => clients.upload.getFile({ name }) });
  const preview = useQuery({ queryKey: ["preview", name], queryFn: () => clients.upload.previewFile({ name, rowCount: 10 }) });
  const [edit, setEdit] = useState<{ displayName: string; description: string; role: FeatureRole } | null>(null);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const f = file.data?.file;
  useEffect(() => {
    if (f) setEdit({ displayName: f.displayName, description: f.description, role: f.role });
  }, [f]);
  if (file.error) return <section className="card grow"><ErrorNotice error={file.error} title="Could not load the file" /></section>;
  if (!f || !edit) return <section className="card grow"><p role="status">Loading…</p></section>;
  const profile = f.profile;
  const save = async () => {
    setError(null);
    setProblems([]);
    try {
      await clients.upload.updateFile({
        file: { name, displayName: edit.displayName, description: edit.description, role: edit.role },
        updateMask: { paths: ["display_name", "description", "role"] },
      });
      await queryClient.invalidateQueries();
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    }
  };
  return (
    <section aria-labelledby="file-heading" className="card grow" data-testid="file-detail">
      <h2 id="file-heading">{f.displayName}</h2>
      <dl className="facts">
        <dt>File</dt><dd>{f.fileName} ({formatBytes(f.sizeBytes)})</dd>
        <dt>SHA-256</dt><dd className="mono">{f.sha256}</dd>
        <dt>Rows</dt><dd>{String(profile?.rowCount ?? 0)}</dd>
        <dt>First / last time</dt><dd>{formatTime(profile?.firstTime)} … {formatTime(profile?.lastTime)}</dd>
        <dt>Median / smallest step</dt><dd>{formatDuration(durationSeconds(profile?.medianStep))} / {formatDuration(durationSeconds(profile?.minStep))}</dd>
        <dt>Gaps</dt><dd>{String(profile?.gapCount ?? 0)} (duplicates {String(profile?.duplicateTimestampCount ?? 0)}, out of order {String(profile?.outOfOrderCount ?? 0)})</dd>
        <dt>Format</dt><dd>separator “{profile?.separator === "\t" ? "tab" : profile?.separator}”, decimal “{profile?.decimalMark}”, {profile?.encoding}, time column “{profile?.timestampColumn}” ({profile?.timestampFormat})</dd>
      </dl>
      <h3>Columns</h3>
      <div className="table-scroll">
        <table>
          <thead><tr><th scope="col">Column</th><th scope="col">Numeric</th><th scope="col">Missing</th><th scope="col">Min</th><th scope="col">Max</th></tr></thead>
          <tbody>
            {profile?.columns.map((c) => (
              <tr key={c.name}><td>{c.name}</td><td>{(c.numericShare * 100).toFixed(1)} %</td><td>{String(c.missingCount)}</td>
                <td>{formatNumber(c.min)}</td><td>{formatNumber(c.max)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>First rows</h3>
      <ErrorNotice error={preview.error} title="No preview" />
      {preview.data && (
        <div className="table-scroll">
          <table aria-label="Preview" data-testid="preview">
            <thead><tr><th scope="col">time</th>{preview.data.columns.map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
            <tbody>
              {preview.data.rows.map((r, i) => (
                <tr key={i}><td>{formatTime(r.time)}</td>{r.values.map((v, j) => <td key={j}>{formatNumber(v)}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Edit</h3>
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); save(); }}>
        <Field label="Display name" path="file.display_name" problems={problems}>
          {(p) => <input {...p} value={edit.displayName} onChange={(e) => setEdit({ ...edit, displayName: e.target.value })} />}
        </Field>
        <Field label="Description" path="file.description" problems={problems}>
          {(p) => <input {...p} value={edit.description} onChange={(e) => setEdit({ ...edit, description: e.target.value })} />}
        </Field>
        <Field label="Role" path="file.role" problems={problems}>
          {(p) => (
            <select {...p} value={edit.role} onChange={(e) => setEdit({ ...edit, role: Number(e.target.value) })}>
              <option value={FeatureRole.INPUT}>input</option>
              <option value={FeatureRole.OUTPUT}>output</option>
            </select>
          )}
        </Field>
        <button type="submit">Save</button>
      </form>
      <ErrorNotice error={error} title="Not saved" />
      <p>
        <ConfirmButton label="Delete file" confirmLabel={`Delete ${f.displayName}`} onConfirm={() =>
          clients.upload.deleteFile({ name }).then(() => { queryClient.invalidateQueries(); navigate("files"); }, setError)} />
      </p>
    </section>
  );
}
