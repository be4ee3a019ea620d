/** Events albumkit emits to the host application (in-process hooks; webhooks come from the worker). */
export interface UploadDonePayload {
  count: number;
  platform: string;
  album_id: string;
  image_ids: string[];
}

export interface EventMap {
  new_image: { organization_id: string; album_id: string; image_id: string };
  upload_done: UploadDonePayload & { organization_id: string };
}

export type EventName = keyof EventMap;
export type EventListener<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;

/** A listener's failure is reported, never propagated: it must not fail the request that emitted. */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<EventListener<any>>>();

  constructor(private readonly onListenerError: (error: unknown, event: EventName) => void) {}

  on<K extends EventName>(event: K, listener: EventListener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends EventName>(event: K, payload: EventMap[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        Promise.resolve(listener(payload)).catch((error) => this.onListenerError(error, event));
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}
