/** The two DOM helpers the playground needs. */

/** The element with this id (the page's markup is fixed, so it is there). */
export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * A new element with an optional class and text.
 *
 * @example
 * ```ts
 * el('span', 'badge', 'created');
 * ```
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}
