import { describe, expect, it } from 'vitest';
import { clipMapping, type ScatterTransform } from './scatter-math';
import { chooseAccumulationFormat, WebGLScatter } from './webgl-scatter';

/**
 * A stand-in WebGL2 context that records every call: constants read as their
 * own names (gl.POINTS === 'POINTS'), objects are fresh {}, shaders compile,
 * framebuffers are complete, and `extensions` are the ones it has.
 */
function recordingContext(extensions: string[]) {
  const calls: Array<[string, unknown[]]> = [];
  const gl = new Proxy({} as Record<string | symbol, unknown>, {
    get: (_, key) => {
      if (typeof key !== 'string') return undefined;
      if (/^[A-Z][A-Z_0-9]*$/.test(key)) return key;
      if (key === 'drawingBufferWidth') return 400;
      if (key === 'drawingBufferHeight') return 300;
      return (...args: unknown[]) => {
        calls.push([key, args]);
        if (key === 'getExtension') return extensions.includes(args[0] as string) ? { loseContext: () => calls.push(['loseContext', []]) } : null;
        if (key === 'checkFramebufferStatus') return 'FRAMEBUFFER_COMPLETE';
        if (key === 'getParameter') return args[0] === 'ALIASED_POINT_SIZE_RANGE' ? [1, 64] : 'Test renderer';
        if (key.startsWith('get') && key.endsWith('Parameter')) return true; // compile and link status
        return {};
      };
    },
  });
  const listeners = new Map<string, (event: Event) => void>();
  const canvas = {
    width: 0,
    height: 0,
    getContext: () => gl,
    addEventListener: (type: string, listener: (event: Event) => void) => listeners.set(type, listener),
    removeEventListener: (type: string) => listeners.delete(type),
  } as unknown as HTMLCanvasElement;
  const named = (name: string) => calls.filter(([key]) => key === name);
  return { canvas, calls, named, listeners };
}

describe('WebGL scatter renderer (the parts that run without a GPU)', () => {
  const having = (...names: string[]) => (name: string) => names.includes(name);

  it('accumulates density in float32 only where float32 targets can also be blended', () => {
    expect(chooseAccumulationFormat(having('EXT_color_buffer_float', 'EXT_float_blend'))).toBe('rgba32f');
    expect(chooseAccumulationFormat(having('EXT_color_buffer_float'))).toBe('rgba16f');
    expect(chooseAccumulationFormat(having('EXT_color_buffer_half_float', 'EXT_float_blend'))).toBe('rgba16f');
    expect(chooseAccumulationFormat(having('EXT_float_blend'))).toBe('none');
    expect(chooseAccumulationFormat(having())).toBe('none');
  });

  it('is not created where the canvas has no WebGL2, so the caller can fall back to 2-D', () => {
    const asked: string[] = [];
    const canvas = {
      width: 10,
      height: 10,
      getContext: (kind: string) => {
        asked.push(kind);
        return null;
      },
      addEventListener: () => {},
      removeEventListener: () => {},
    } as unknown as HTMLCanvasElement;
    expect(WebGLScatter.create(canvas)).toBeNull();
    expect(asked).toEqual(['webgl2']);
  });

  it('is not created when the context cannot build its shaders', () => {
    let lostContext = false;
    const failing = new Proxy(
      {},
      {
        get: (_, key) => {
          if (key === 'getExtension') return (name: string) => (name === 'WEBGL_lose_context' ? { loseContext: () => (lostContext = true) } : null);
          if (key === 'createShader') return () => null;
          return typeof key === 'string' && /^[A-Z_0-9]+$/.test(key) ? 0 : () => ({});
        },
      },
    );
    const canvas = { getContext: () => failing, addEventListener: () => {}, removeEventListener: () => {} } as unknown as HTMLCanvasElement;
    expect(WebGLScatter.create(canvas)).toBeNull();
    expect(lostContext).toBe(true);
  });

  it('uploads points and colours once per data change; a frame only sets the view and draws', () => {
    const fake = recordingContext(['EXT_color_buffer_float', 'EXT_float_blend', 'WEBGL_lose_context']);
    const renderer = WebGLScatter.create(fake.canvas)!;
    expect(renderer.accumulation).toBe('rgba32f');
    renderer.setPoints(Float32Array.from([0, 0, 1, 1, 2, 4]));
    renderer.setColours(new Uint8Array(12).fill(255));
    expect(fake.named('bufferData')).toHaveLength(2);
    fake.calls.length = 0;

    const views: ScatterTransform[] = [
      { sx: 10, ox: 5, sy: -10, oy: 150 },
      { sx: 20, ox: -40, sy: -20, oy: 170 },
    ];
    for (const view of views) renderer.render(view, 200, 150, 3);
    expect(fake.named('bufferData')).toHaveLength(0);
    expect(fake.named('bufferSubData')).toHaveLength(0);
    // Per frame: the points into the float target, then one full-screen triangle.
    expect(fake.named('drawArrays').map(([, args]) => args)).toEqual([
      ['POINTS', 0, 3],
      ['TRIANGLES', 0, 3],
      ['POINTS', 0, 3],
      ['TRIANGLES', 0, 3],
    ]);
    // The float target is made once for this size, not per frame.
    expect(fake.named('texImage2D')).toHaveLength(1);
    expect(fake.named('texImage2D')[0][1].slice(2, 5)).toEqual(['RGBA32F', 400, 300]);
    const { centre, scale } = clipMapping(views[1], 200, 150);
    expect(fake.named('uniform2f').slice(-2).map(([, args]) => args.slice(1))).toEqual([centre, scale]);
    // Point size in device px: 3 CSS px on a drawing buffer twice the CSS size.
    expect(fake.named('uniform1f').at(-1)![1][1]).toBe(6);
  });

  it('draws only as many points as both buffers hold', () => {
    const fake = recordingContext([]);
    const renderer = WebGLScatter.create(fake.canvas)!;
    expect(renderer.accumulation).toBe('none');
    renderer.setPoints(new Float32Array(2 * 10));
    renderer.setColours(new Uint8Array(4 * 7));
    renderer.render({ sx: 1, ox: 0, sy: 1, oy: 0 }, 400, 300, 2);
    // Without a float target the points go straight to the canvas: one draw.
    expect(fake.named('drawArrays').map(([, args]) => args)).toEqual([['POINTS', 0, 7]]);
  });

  it('reports a lost context once and stops drawing; dispose frees the GPU objects and the context', () => {
    const fake = recordingContext(['WEBGL_lose_context']);
    let lost = 0;
    const renderer = WebGLScatter.create(fake.canvas, { onContextLost: () => lost++ })!;
    fake.listeners.get('webglcontextlost')!(new Event('webglcontextlost'));
    expect(lost).toBe(1);
    expect(renderer.lost).toBe(true);
    fake.calls.length = 0;
    renderer.render({ sx: 1, ox: 0, sy: 1, oy: 0 }, 400, 300, 2);
    renderer.setPoints(new Float32Array(4));
    expect(fake.calls).toEqual([]);

    const other = recordingContext(['WEBGL_lose_context']);
    const live = WebGLScatter.create(other.canvas)!;
    live.render({ sx: 1, ox: 0, sy: 1, oy: 0 }, 400, 300, 2);
    other.calls.length = 0;
    live.dispose();
    expect(other.listeners.size).toBe(0);
    const deleted = other.calls.filter(([key]) => key.startsWith('delete')).map(([key]) => key);
    expect(deleted.filter((key) => key === 'deleteBuffer')).toHaveLength(2);
    expect(deleted.filter((key) => key === 'deleteProgram')).toHaveLength(2);
    expect(deleted.filter((key) => key === 'deleteVertexArray')).toHaveLength(2);
    expect(other.named('loseContext')).toHaveLength(1);
  });
});
