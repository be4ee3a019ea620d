'use strict';
/**
 * HEIC/HEIF decoding with libheif compiled to WebAssembly (the `libheif-js` package), run in a
 * worker thread by src/heic.ts: decoding a phone photo takes the better part of a second of
 * synchronous WebAssembly, which must not stall the server's event loop, and the WebAssembly
 * memory it grew is given back when the worker exits.
 *
 * Request:  { id, data: Uint8Array (the file), maxPixels }
 * Answer:   { id, ok: true, width, height, channels, pixels: Uint8Array } (interleaved RGB/RGBA,
 *           EXIF-free: libheif has applied the file's rotation and mirroring, `irot`/`imir`)
 *           { id, ok: false, reason: 'invalid' | 'too-large' | 'failed', message, width?, height? }
 *
 * Plain CommonJS (not TypeScript) so that the same file runs from the sources under vitest and
 * from an installed package.
 */
const { parentPort } = require('node:worker_threads');

let ready;
function load() {
  ready ??= new Promise((resolve, reject) => {
    // Emscripten fills in the object it is given and calls back once the WebAssembly is
    // instantiated (synchronously here: the factory reads libheif.wasm next to its own file).
    const module = { print: () => {}, printErr: () => {} };
    module.onRuntimeInitialized = () => resolve(module);
    module.onAbort = (reason) => reject(new Error(`libheif failed to start: ${reason}`));
    require('libheif-js/libheif-wasm/libheif.js')(module);
  });
  return ready;
}

function decode(libheif, data, maxPixels) {
  const context = libheif.heif_context_alloc();
  if (!context) return { ok: false, reason: 'failed', message: 'libheif could not allocate a context' };
  let handle;
  try {
    const error = libheif.heif_context_read_from_memory(context, data);
    if (error.code !== libheif.heif_error_code.heif_error_Ok) {
      return { ok: false, reason: 'invalid', message: `not a readable HEIF file (${error.message})` };
    }
    handle = libheif.heif_js_context_get_primary_image_handle(context);
    if (!handle || handle.code) return { ok: false, reason: 'invalid', message: 'the HEIF file has no primary image' };
    // Sizes after the file's own rotation and mirroring, as displayed.
    const width = libheif.heif_image_handle_get_width(handle);
    const height = libheif.heif_image_handle_get_height(handle);
    if (!(width > 0 && height > 0)) return { ok: false, reason: 'invalid', message: 'the HEIF image has no size' };
    // Refused before any pixel is allocated: the size is what the file claims.
    if (width * height > maxPixels) {
      return { ok: false, reason: 'too-large', width, height, message: `${width}x${height} is more than ${maxPixels} pixels` };
    }
    const alpha = Boolean(libheif.heif_image_handle_has_alpha_channel(handle));
    const channels = alpha ? 4 : 3;
    const chroma = alpha ? libheif.heif_chroma.heif_chroma_interleaved_RGBA : libheif.heif_chroma.heif_chroma_interleaved_RGB;
    const image = libheif.heif_js_decode_image2(handle, libheif.heif_colorspace.heif_colorspace_RGB, chroma);
    if (!image || image.code) {
      return { ok: false, reason: 'failed', width, height, message: `libheif could not decode the image${image && image.message ? ` (${image.message})` : ''}` };
    }
    try {
      const plane = image.channels.find((channel) => channel.id === libheif.heif_channel.heif_channel_interleaved);
      if (!plane || plane.width !== width || plane.height !== height) {
        return { ok: false, reason: 'failed', width, height, message: 'libheif decoded an image of another size than announced' };
      }
      const row = width * channels;
      const pixels = new Uint8Array(row * height);
      if (plane.stride === row) pixels.set(plane.data.subarray(0, row * height));
      else for (let y = 0; y < height; y++) pixels.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
      return { ok: true, width, height, channels, pixels };
    } finally {
      libheif.heif_image_release(image.image);
    }
  } finally {
    if (handle && !handle.code) libheif.heif_image_handle_release(handle);
    libheif.heif_context_free(context);
  }
}

parentPort.on('message', async ({ id, data, maxPixels }) => {
  let answer;
  try {
    answer = decode(await load(), data, maxPixels);
  } catch (error) {
    answer = { ok: false, reason: 'failed', message: `libheif failed: ${error && error.message ? error.message : String(error)}` };
  }
  if (answer.ok) parentPort.postMessage({ id, ...answer }, [answer.pixels.buffer]);
  else parentPort.postMessage({ id, ...answer });
});
