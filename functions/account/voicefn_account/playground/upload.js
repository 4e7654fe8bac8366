// Uploading as a mini-program does: a ticket (POST /api/audio/uploads), then the ticket's OSS
// PostObject form exactly as wx.uploadFile sends it (its fields, then the file as "file").
import { api, poll, postForm } from "/playground/api.js";

/** Upload `clip` for `purpose`; resolves to the ticket's status once `ready(status)` holds. */
export async function uploadClip(clip, purpose, extra, ready, onStatus) {
  const ticket = await api("/api/audio/uploads", {
    method: "POST",
    json: { purpose, content_type: clip.blob.type || "audio/wav", size: clip.blob.size, filename: clip.name, ...extra },
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.post.fields)) form.append(name, value);
  form.append("file", clip.blob, clip.name);
  onStatus({ status: "UPLOADING" });
  await postForm(ticket.post.url, form);
  const done = await poll(() => api(`/api/audio/uploads/${ticket.ticket_id}`),
    (u) => ready(u) || ["REJECTED", "EXPIRED"].includes(u.status), onStatus);
  if (!ready(done)) throw new Error(done.error ? `upload ${done.status}: ${done.error}` : `upload ${done.status}`);
  return done;
}
