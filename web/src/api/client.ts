// The typed API client: every path, body and response type comes from the OpenAPI document
// the server generates (`helpdesk openapi` > openapi.json > schema.d.ts), never written by hand.
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Ticket = Schemas['Ticket'];
export type TicketRow = Schemas['TicketRow'];
export type TicketDetail = Schemas['TicketDetail'];
export type Message = Schemas['Message'];
export type Note = Schemas['Note'];
export type Activity = Schemas['Activity'];
export type Contact = Schemas['Contact'];
export type User = Schemas['User'];
export type Role = Schemas['Role'];
export type Invitation = Schemas['Invitation'];
export type ChannelSummary = Schemas['ChannelSummary'];
export type ChannelChange = Schemas['ChannelChange'];
export type AvailablePlugin = Schemas['AvailablePlugin'];
export type QueueCounts = Schemas['QueueCounts'];
export type Capability = Schemas['Capability'];
export type Kind = Schemas['Kind'];
export type ActionKind = Schemas['ActionKind'];
export type Viewer = Schemas['Viewer'];
export type LiveEvent = Schemas['Event'];
export type ClientMessage = Schemas['ClientMessage'];
export type TicketQuery = NonNullable<paths['/api/v1/tickets']['get']['parameters']['query']>;

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

/** A failed call, with the server's words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let onSignedOut: () => void = () => {};
export function whenSignedOut(f: () => void) {
  onSignedOut = f;
}

/** The data of a call, or an ApiError carrying the server's message. */
export async function call<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r;
  try {
    r = await p;
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection; changes were not saved.');
  }
  if (r.response.ok) return r.data as T;
  const body = (r.error ?? {}) as { code?: string; message?: string };
  if (r.response.status === 401 && body.code === 'unauthorized') onSignedOut();
  throw new ApiError(r.response.status, body.code ?? 'error', body.message ?? `${r.response.status} ${r.response.statusText}`);
}

export type StoredFile = Schemas['StoredFile'];

/** Upload a file to send with replies: its bytes as the body, its name in the query. */
export function uploadFile(file: File): Promise<StoredFile> {
  return call(
    api.POST('/api/v1/files', {
      params: { query: { name: file.name } },
      body: file as unknown as number[],
      bodySerializer: (b: unknown) => b as File,
      headers: { 'Content-Type': file.type || 'application/octet-stream' },
    }),
  );
}

/** 1.2 MB, 340 KB: a file's size for people. */
export function fileSize(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}
