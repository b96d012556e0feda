// Copyright 2026 the midisock authors. MIT license.

/** Any listener: a typed one takes a narrower event. */
type Listener =
  | EventListenerOrEventListenerObject
  // deno-lint-ignore no-explicit-any
  | ((this: any, event: never) => void)
  | null;

/**
 * An EventTarget whose listeners are typed by an event map: the event
 * names and the class of event that each one carries. Ports and servers
 * are TypedEventTargets.
 *
 * @typeParam M The event map, such as {@linkcode PortServerEventMap}.
 *
 * @example Listening with a typed event
 * ```ts
 * import { TypedEventTarget } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * class Ticker extends TypedEventTarget<{ tick: CustomEvent<number> }> {}
 * const ticker = new Ticker();
 * let seen = 0;
 * ticker.addEventListener("tick", (event) => seen = event.detail);
 * ticker.dispatchEvent(new CustomEvent("tick", { detail: 7 }));
 * assert.equal(seen, 7);
 * ```
 */
export class TypedEventTarget<M extends { [K in keyof M]: Event }>
  extends EventTarget {
  /**
   * Adds a listener for one of the events in the map.
   *
   * @param type The event's name.
   * @param listener Called with the event.
   * @param options Listener options, such as `once` and `signal`.
   */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: ((this: this, event: M[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event type.
   *
   * @param type The event's name.
   * @param listener The listener.
   * @param options Listener options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(
      type,
      listener as EventListenerOrEventListenerObject | null,
      options,
    );
  }

  /**
   * Removes a listener added with {@linkcode TypedEventTarget.addEventListener}.
   *
   * @param type The event's name.
   * @param listener The listener.
   * @param options Listener options (`capture` must match).
   */
  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: ((this: this, event: M[K]) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a listener for any event type.
   *
   * @param type The event's name.
   * @param listener The listener.
   * @param options Listener options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(
      type,
      listener as EventListenerOrEventListenerObject | null,
      options,
    );
  }
}
