import type { ImageJson } from '../serializers/image.js';

/** Events albumkit emits: in-process hooks here, webhooks through the `webhook` job. */
export interface UploadDonePayload {
  count: number;
  platform: string;
  album_id: string;
  image_ids: string[];
}

/** Recorded for image events; webhooks also receive the image's JSON as it is at delivery. */
export interface ImageEventPayload {
  album_id: string;
  image_id: string;
}

export interface ImageWebhookPayload extends ImageEventPayload {
  image: ImageJson | null;
}

/** What each event records (and in-process listeners receive, with the organization). */
export interface EventPayloads {
  new_image: ImageEventPayload;
  processed_image: ImageEventPayload;
  upload_done: UploadDonePayload;
  /** An image was edited (rotation, crop, caption). */
  update_image: ImageEventPayload;
  /** An image went to the trash. */
  delete_image: ImageEventPayload;
  /** An image came back from the trash. */
  restore_image: ImageEventPayload;
  /** An image moved to another album (`album_id`, the destination) from `from_album_id`. */
  move_image: ImageEventPayload & { from_album_id: string };
  /** A copy of an image was made (duplicate, paste, album duplicate): `image_id` is the copy. */
  copy_image: ImageEventPayload & { source_image_id: string };
  /** A tag was put on an image. */
  tag_image: TagEventPayload;
  /** A tag was taken off an image. */
  untag_image: TagEventPayload;
}

export interface TagEventPayload extends ImageEventPayload {
  tag_id: string;
  tag_name: string;
}

export type EventName = keyof EventPayloads;
export const EVENT_NAMES: readonly EventName[] = ['new_image', 'processed_image', 'upload_done', 'update_image', 'delete_image', 'restore_image', 'move_image', 'copy_image', 'tag_image', 'untag_image'];

/** In-process listeners also get the organization. */
export type EventMap = { [K in EventName]: EventPayloads[K] & { organization_id: string } };
export type EventListener<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;

/** A listener's failure is reported, never propagated: it must not fail the work that emitted. */
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
