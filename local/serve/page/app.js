// The upload page: POST /api/uploads, the file straight to storage with the signed POST (AWS) or SAS PUT (Azure),
// then the job's status live (Server-Sent Events; polling with Retry-After when a bearer token must be sent).
"use strict";

const api = "api";
const jobs = document.getElementById("jobs");
const tokenInput = document.getElementById("token");

function authHeaders() {
  const token = tokenInput.value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function apiError(response) {
  const body = await response.json().catch(() => ({}));
  return `${body.code || `HTTP ${response.status}`}: ${body.message || response.statusText}`;
}

/** The markup's URLs are relative to the output prefix: prefix them with the manifest's baseUrl. */
function absolute(picture, baseUrl) {
  return picture.replace(/(src|srcset)="([^"]*)"/g, (_, name, value) =>
    `${name}="${value.split(", ").map((part) => (/^(data:|https?:)/.test(part) ? part : baseUrl + part)).join(", ")}"`);
}

function show(row, job) {
  row.dataset.status = job.status;
  row.querySelector(".status").textContent = job.status + (job.error ? ` (${job.error.code}: ${job.error.message})` : "");
  if (job.status !== "succeeded" || !job.manifest || row.querySelector(".renditions")) return;
  const list = element("div", { class: "renditions" });
  for (const output of job.manifest.outputs) {
    const figure = element("figure");
    figure.append(element("img", { class: "rendition", src: output.url, alt: `${output.name} ${output.format}` }));
    figure.append(element("figcaption", {}, `${output.name}.${output.format} ${output.width}×${output.height}, ${output.bytes} B`));
    list.append(figure);
  }
  row.append(list);
  for (const set of job.manifest.responsive || []) {
    row.append(element("h3", {}, `<picture> (${set.name})`));
    row.append(element("pre", { class: "markup" }, set.picture));
    if (job.manifest.baseUrl) {
      const holder = element("div", { class: "picture" });
      holder.innerHTML = absolute(set.picture, job.manifest.baseUrl);
      row.append(holder);
    }
  }
}

function follow(row, uploadId) {
  if (Object.keys(authHeaders()).length === 0) {
    const events = new EventSource(`${api}/jobs/${uploadId}/events`);
    events.addEventListener("status", (event) => {
      const job = JSON.parse(event.data);
      show(row, job);
      if (job.status === "succeeded" || job.status === "failed") events.close();
    });
    events.addEventListener("gone", () => {
      row.querySelector(".status").textContent = "erased";
      events.close();
    });
    return;
  }
  // EventSource cannot send an Authorization header: poll, as the Retry-After and ETag headers say.
  let etag;
  const poll = async () => {
    const response = await fetch(`${api}/jobs/${uploadId}`, { headers: { ...authHeaders(), ...(etag ? { "If-None-Match": etag } : {}) } });
    if (response.status === 200) {
      etag = response.headers.get("ETag");
      show(row, await response.json());
    } else if (response.status !== 304) {
      row.querySelector(".status").textContent = await apiError(response);
      return;
    }
    if (row.dataset.status !== "succeeded" && row.dataset.status !== "failed") setTimeout(poll, 1000 * Number(response.headers.get("Retry-After") || 2));
  };
  poll();
}

async function upload(file) {
  const row = element("li", { class: "job", "data-status": "signing" });
  row.append(element("div", { class: "name" }, file.name), element("div", { class: "status" }, "signing"));
  jobs.prepend(row);
  const signed = await fetch(`${api}/uploads`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({ filename: file.name, contentType: file.type || "application/octet-stream", bytes: file.size }),
  });
  if (!signed.ok) {
    row.dataset.status = "refused";
    row.querySelector(".status").textContent = await apiError(signed);
    return;
  }
  const grant = await signed.json();
  row.dataset.uploadId = grant.uploadId;
  row.querySelector(".status").textContent = "uploading";
  let stored;
  if (grant.method === "POST") {
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields || {})) form.append(name, value);
    form.append("file", file);
    stored = await fetch(grant.url, { method: "POST", body: form });
  } else {
    stored = await fetch(grant.url, { method: "PUT", headers: grant.headers || {}, body: file });
  }
  if (!stored.ok) {
    row.dataset.status = "upload-failed";
    row.querySelector(".status").textContent = `the storage refused the upload (HTTP ${stored.status})`;
    return;
  }
  const erase = element("button", { type: "button", class: "erase" }, "Erase");
  erase.addEventListener("click", async () => {
    const response = await fetch(`${api}/uploads/${grant.uploadId}`, { method: "DELETE", headers: authHeaders() });
    if (response.ok) row.remove();
    else row.querySelector(".status").textContent = await apiError(response);
  });
  row.append(erase);
  row.querySelector(".status").textContent = "pending";
  follow(row, grant.uploadId);
}

document.getElementById("files").addEventListener("change", (event) => {
  for (const file of event.target.files) upload(file).catch((error) => console.error(error));
});
