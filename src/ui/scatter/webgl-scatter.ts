/**
 * WebGL2 renderer of the latent scatter (no React). Positions and colours go
 * to the GPU once per data change; a frame only sets the view uniforms, so
 * panning and zooming 10⁶ points costs one draw call.
 *
 * Density shading, in two passes:
 *  1. every point is drawn as a square gl.POINTS sprite, added (blend ONE,
 *     ONE) into an offscreen float texture: rgb collects colour × alpha, a
 *     collects alpha, i.e. the number of points on the pixel (alpha-weighted);
 *  2. a full-screen triangle turns each texel into the mean colour of its
 *     points, lifted towards white by log(count) up to MAX_LIFT at
 *     SATURATION_COUNT points per device pixel.
 * A pixel with one opaque point keeps that point's exact colour (pick,
 * colour-by tests and the PNG export see the palette), while dense regions
 * glow and saturate instead of showing whichever point came last. Lifting the
 * brightness, rather than fading sparse pixels, keeps lone points as visible
 * as they were on the 2-D canvas.
 *
 * Float targets need EXT_color_buffer_float (32-bit blending also
 * EXT_float_blend) or EXT_color_buffer_half_float; with neither, points are
 * drawn straight to the canvas with ordinary alpha blending (no density).
 */
import { clipMapping, DENSITY_MAX_LIFT as MAX_LIFT, DENSITY_SATURATION_COUNT as SATURATION_COUNT, type ScatterTransform } from './scatter-math';

/** Texture format of the density pass, or 'none' when points are drawn straight to the canvas. */
export type AccumulationFormat = 'rgba32f' | 'rgba16f' | 'none';

/** The best float target the context can both render to and blend into. */
export function chooseAccumulationFormat(has: (extension: string) => boolean): AccumulationFormat {
  const colourBufferFloat = has('EXT_color_buffer_float');
  if (colourBufferFloat && has('EXT_float_blend')) return 'rgba32f';
  // Blending into 16-bit float targets needs no extension beyond the colour buffer one.
  if (colourBufferFloat || has('EXT_color_buffer_half_float')) return 'rgba16f';
  return 'none';
}

const POINT_VERTEX = `#version 300 es
layout(location = 0) in vec2 a_xy;
layout(location = 1) in vec4 a_rgba;
uniform vec2 u_centre;
uniform vec2 u_scale;
uniform float u_pointSize;
out vec4 v_premultiplied;
void main() {
  // Hidden points (alpha 0) go beyond the far plane, where points are clipped.
  gl_Position = a_rgba.a == 0.0 ? vec4(0.0, 0.0, 2.0, 1.0) : vec4((a_xy - u_centre) * u_scale, 0.0, 1.0);
  gl_PointSize = u_pointSize;
  v_premultiplied = vec4(a_rgba.rgb * a_rgba.a, a_rgba.a);
}`;

const POINT_FRAGMENT = `#version 300 es
precision highp float;
in vec4 v_premultiplied;
out vec4 o_colour;
void main() {
  o_colour = v_premultiplied;
}`;

/** One triangle that covers the viewport, from gl_VertexID alone (no buffers). */
const RESOLVE_VERTEX = `#version 300 es
void main() {
  vec2 corner = vec2(float((gl_VertexID & 1) << 2), float((gl_VertexID & 2) << 1));
  gl_Position = vec4(corner - 1.0, 0.0, 1.0);
}`;

const RESOLVE_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_accumulated;
uniform float u_logSaturation;
uniform float u_maxLift;
out vec4 o_colour;
void main() {
  vec4 sum = texelFetch(u_accumulated, ivec2(gl_FragCoord.xy), 0);
  float count = sum.a;
  if (count <= 0.0) {
    o_colour = vec4(0.0);
    return;
  }
  vec3 mean = sum.rgb / count;
  float lift = u_maxLift * clamp(log(count) / u_logSaturation, 0.0, 1.0);
  float coverage = min(count, 1.0);
  // The canvas is premultiplied.
  o_colour = vec4(mix(mean, vec3(1.0), lift) * coverage, coverage);
}`;

export interface WebGLScatterOptions {
  /** Called once when the browser takes the context away (the caller falls back to 2-D). */
  onContextLost?: () => void;
  /** Keep the picture after compositing, for readers of the canvas in later tasks (costs a copy per frame). */
  preserveDrawingBuffer?: boolean;
}

type ScatterCanvas = HTMLCanvasElement | OffscreenCanvas;

function compile(gl: WebGL2RenderingContext, vertex: string, fragment: string): WebGLProgram {
  const program = gl.createProgram();
  const shaders = [
    [gl.VERTEX_SHADER, vertex],
    [gl.FRAGMENT_SHADER, fragment],
  ] as const;
  for (const [type, source] of shaders) {
    const shader = gl.createShader(type);
    if (!shader) throw new Error('WebGL: cannot create a shader');
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`WebGL shader: ${gl.getShaderInfoLog(shader)}`);
    gl.attachShader(program, shader);
    // Flagged for deletion; it lives as long as the program.
    gl.deleteShader(shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`WebGL program: ${gl.getProgramInfoLog(program)}`);
  return program;
}

export class WebGLScatter {
  readonly canvas: ScatterCanvas;
  readonly gl: WebGL2RenderingContext;
  /** Where density accumulates; drops to 'none' if the float target turns out incomplete. */
  accumulation: AccumulationFormat;
  /** True once the context is lost or disposed: render() then does nothing. */
  lost = false;

  private readonly pointProgram: WebGLProgram;
  private readonly pointUniforms: { centre: WebGLUniformLocation | null; scale: WebGLUniformLocation | null; pointSize: WebGLUniformLocation | null };
  private readonly resolveProgram: WebGLProgram;
  private readonly pointsVao: WebGLVertexArrayObject;
  private readonly emptyVao: WebGLVertexArrayObject;
  private readonly positionBuffer: WebGLBuffer;
  private readonly colourBuffer: WebGLBuffer;
  private readonly maxPointSize: number;
  private positionCount = 0;
  private colourCount = 0;
  private target: { texture: WebGLTexture; framebuffer: WebGLFramebuffer; width: number; height: number } | null = null;
  private readonly onLost: (event: Event) => void;

  /** A renderer on `canvas`, or null when WebGL2 (or a shader) is not available. */
  static create(canvas: ScatterCanvas, options: WebGLScatterOptions = {}): WebGLScatter | null {
    let gl: WebGL2RenderingContext | null = null;
    try {
      gl = canvas.getContext('webgl2', {
        alpha: true,
        premultipliedAlpha: true,
        antialias: false,
        depth: false,
        stencil: false,
        preserveDrawingBuffer: options.preserveDrawingBuffer ?? false,
      }) as WebGL2RenderingContext | null;
      if (!gl) return null;
      return new WebGLScatter(canvas, gl, options);
    } catch {
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
      return null;
    }
  }

  private constructor(canvas: ScatterCanvas, gl: WebGL2RenderingContext, options: WebGLScatterOptions) {
    this.canvas = canvas;
    this.gl = gl;
    this.accumulation = chooseAccumulationFormat((name) => gl.getExtension(name) !== null);
    this.pointProgram = compile(gl, POINT_VERTEX, POINT_FRAGMENT);
    this.pointUniforms = {
      centre: gl.getUniformLocation(this.pointProgram, 'u_centre'),
      scale: gl.getUniformLocation(this.pointProgram, 'u_scale'),
      pointSize: gl.getUniformLocation(this.pointProgram, 'u_pointSize'),
    };
    this.resolveProgram = compile(gl, RESOLVE_VERTEX, RESOLVE_FRAGMENT);
    gl.useProgram(this.resolveProgram);
    gl.uniform1i(gl.getUniformLocation(this.resolveProgram, 'u_accumulated'), 0);
    gl.uniform1f(gl.getUniformLocation(this.resolveProgram, 'u_logSaturation'), Math.log(SATURATION_COUNT));
    gl.uniform1f(gl.getUniformLocation(this.resolveProgram, 'u_maxLift'), MAX_LIFT);
    this.maxPointSize = (gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE) as Float32Array)[1] ?? 1;

    this.positionBuffer = gl.createBuffer();
    this.colourBuffer = gl.createBuffer();
    this.pointsVao = gl.createVertexArray();
    this.emptyVao = gl.createVertexArray();
    gl.bindVertexArray(this.pointsVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positionBuffer);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
    gl.enableVertexAttribArray(1);
    // Normalised bytes: 255 arrives as exactly 1.0, so one opaque point resolves to its own colour.
    gl.vertexAttribPointer(1, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.bindVertexArray(null);

    this.onLost = () => {
      this.lost = true;
      this.target = null;
      options.onContextLost?.();
    };
    canvas.addEventListener('webglcontextlost', this.onLost);
  }

  /** x, y per point in plot units (uploaded now, drawn every frame). */
  setPoints(xy: Float32Array): void {
    if (this.lost) return;
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positionBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, xy, gl.STATIC_DRAW);
    this.positionCount = xy.length >> 1;
  }

  /** RGBA bytes per point; alpha 0 hides a point, other alphas weight it. */
  setColours(rgba: Uint8Array): void {
    if (this.lost) return;
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.DYNAMIC_DRAW);
    this.colourCount = rgba.length >> 2;
  }

  /** Sets the drawing buffer size in device px (clears it when it changes). */
  resize(width: number, height: number): void {
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
  }

  /**
   * Draws the points through `view` (plot units → CSS px of an element of
   * cssWidth × cssHeight); dots are `pointSize` CSS px, scaled to device px.
   */
  render(view: ScatterTransform, cssWidth: number, cssHeight: number, pointSize: number): void {
    if (this.lost) return;
    const gl = this.gl;
    const width = gl.drawingBufferWidth;
    const height = gl.drawingBufferHeight;
    const { centre, scale } = clipMapping(view, cssWidth, cssHeight);
    // Positions and colours may briefly differ in length while a caller swaps data: draw what both cover.
    const count = Math.min(this.positionCount, this.colourCount);
    const sizePx = Math.min(this.maxPointSize, Math.max(1, Math.round(pointSize * (width / cssWidth))));

    gl.useProgram(this.pointProgram);
    gl.uniform2f(this.pointUniforms.centre, centre[0], centre[1]);
    gl.uniform2f(this.pointUniforms.scale, scale[0], scale[1]);
    gl.uniform1f(this.pointUniforms.pointSize, sizePx);
    gl.bindVertexArray(this.pointsVao);
    gl.enable(gl.BLEND);
    gl.blendEquation(gl.FUNC_ADD);
    gl.clearColor(0, 0, 0, 0);

    const target = this.densityTarget(width, height);
    if (target) {
      gl.bindFramebuffer(gl.FRAMEBUFFER, target.framebuffer);
      gl.viewport(0, 0, width, height);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.blendFunc(gl.ONE, gl.ONE);
      gl.drawArrays(gl.POINTS, 0, count);

      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.disable(gl.BLEND);
      gl.viewport(0, 0, width, height);
      gl.useProgram(this.resolveProgram);
      gl.bindVertexArray(this.emptyVao);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, target.texture);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    } else {
      // No float target: plain premultiplied "over", later points on top.
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.viewport(0, 0, width, height);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.drawArrays(gl.POINTS, 0, count);
    }
    gl.bindVertexArray(null);
  }

  /** RGBA of one drawing-buffer pixel (origin bottom left); waits for the GPU, so also a frame fence. */
  readPixel(x: number, y: number): Uint8Array {
    const pixel = new Uint8Array(4);
    if (!this.lost) this.gl.readPixels(x, y, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, pixel);
    return pixel;
  }

  /** What draws: the unmasked GPU (or software renderer) name where the browser tells it. */
  get rendererName(): string {
    const gl = this.gl;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  }

  /** Deletes the GPU resources and lets the context go (browsers cap live contexts). */
  dispose(): void {
    this.canvas.removeEventListener('webglcontextlost', this.onLost);
    if (this.lost) return;
    this.lost = true;
    const gl = this.gl;
    this.deleteTarget();
    gl.deleteBuffer(this.positionBuffer);
    gl.deleteBuffer(this.colourBuffer);
    gl.deleteVertexArray(this.pointsVao);
    gl.deleteVertexArray(this.emptyVao);
    gl.deleteProgram(this.pointProgram);
    gl.deleteProgram(this.resolveProgram);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }

  /** The float texture + framebuffer of the density pass at this size, or null to draw directly. */
  private densityTarget(width: number, height: number): { texture: WebGLTexture; framebuffer: WebGLFramebuffer } | null {
    if (this.accumulation === 'none') return null;
    if (this.target && this.target.width === width && this.target.height === height) return this.target;
    this.deleteTarget();
    const gl = this.gl;
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    // NEAREST: float32 textures are not filterable everywhere, and texelFetch needs a complete texture.
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    const float32 = this.accumulation === 'rgba32f';
    gl.texImage2D(gl.TEXTURE_2D, 0, float32 ? gl.RGBA32F : gl.RGBA16F, width, height, 0, gl.RGBA, float32 ? gl.FLOAT : gl.HALF_FLOAT, null);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    const complete = gl.checkFramebufferStatus(gl.FRAMEBUFFER) === gl.FRAMEBUFFER_COMPLETE;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.target = { texture, framebuffer, width, height };
    if (!complete) {
      this.deleteTarget();
      this.accumulation = 'none';
      return null;
    }
    return this.target;
  }

  private deleteTarget(): void {
    if (!this.target) return;
    this.gl.deleteFramebuffer(this.target.framebuffer);
    this.gl.deleteTexture(this.target.texture);
    this.target = null;
  }
}
