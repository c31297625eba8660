/**
 * A Rapier world plus the bookkeeping a task needs: named bodies (for pose recording and the
 * viewer), visual shapes mirrored from colliders, and Meta-World's table. Built fresh at every reset,
 * so an episode never inherits solver caches from the previous one (that is what makes "same seed =>
 * same trajectory" hold regardless of history).
 */
import type RAPIER_NS from '@dimforge/rapier3d-compat';
import { rapier } from './physics.js';
import type { SceneGeometry, ShapeSpec, VisualSpec } from './geometry.js';
import { IDENTITY_QUAT, quatMul, type Quat, type Vec3 } from './vec.js';

type World = RAPIER_NS.World;
type RigidBody = RAPIER_NS.RigidBody;
type Collider = RAPIER_NS.Collider;

/** Meta-World timing: 2.5 ms physics step, 5 physics steps per env step. */
export const PHYSICS_DT = 0.0025;
export const FRAME_SKIP = 5;
const CONTACT_HZ = 100;

/** Collision group bits: the robot's own parts never collide with each other. */
const ROBOT_BIT = 0x0002;
export const ROBOT_GROUPS = ((ROBOT_BIT << 16) | (0xffff & ~ROBOT_BIT)) >>> 0;

export interface ShapeOptions {
  position?: Vec3;
  quaternion?: Quat;
  color?: string;
  friction?: number;
  /** Mass of this collider in kg (overrides density). */
  mass?: number;
  density?: number;
  /** Visual only: no collider is created. */
  visualOnly?: boolean;
  opacity?: number;
  groups?: number;
}

/** Cylinders in Rapier run along local y; Meta-World's (and our geometry JSON's) run along z. */
const Y_TO_Z: Quat = [Math.SQRT1_2, 0, 0, Math.SQRT1_2];

export class Scene {
  readonly world: World;
  readonly bodies: RigidBody[] = [];
  readonly bodyNames: string[] = [];
  readonly visuals: VisualSpec[] = [];
  private freed = false;

  constructor() {
    const R = rapier();
    this.world = new R.World({ x: 0, y: 0, z: -9.81 });
    this.world.timestep = PHYSICS_DT;
    this.world.integrationParameters.numSolverIterations = 4; // 2 ran ~1.5x faster but dropped pick-place to 25/30
    // 4 internal PGS iterations keep fast finger/object impacts from interpenetrating (rapier-gripper.md).
    this.world.integrationParameters.numInternalPgsIterations = 4; // 1 broke door-open (0/30) and plate-slide (19/30)
    // Rapier's contacts are springs at 30 Hz by default: a 30 N grip sank the pads 8 mm into a 0.1 kg
    // puck and the grasp failed. 100 Hz keeps grip penetration near 1 mm (pick-place 20/20).
    this.world.integrationParameters.contact_natural_frequency = CONTACT_HZ;
    // Rapier 0.21's default contact prediction distance is 2 cm. Predicted (not yet touching)
    // contacts that far out held a peg 2 cm in front of its hole and a hand 5 cm above a handle;
    // 2 mm removed both (peg-insert-side expert 14/20 -> 20/20).
    this.world.integrationParameters.normalizedPredictionDistance = 0.002;
  }

  addBody(name: string, type: 'fixed' | 'dynamic' | 'kinematic', position: Vec3, quaternion: Quat = IDENTITY_QUAT): RigidBody {
    if (this.bodyNames.includes(name)) throw new Error(`scene already has a body named ${name}`);
    const R = rapier();
    const desc =
      type === 'fixed' ? R.RigidBodyDesc.fixed() : type === 'dynamic' ? R.RigidBodyDesc.dynamic() : R.RigidBodyDesc.kinematicPositionBased();
    desc.setTranslation(position[0], position[1], position[2]);
    desc.setRotation({ x: quaternion[0], y: quaternion[1], z: quaternion[2], w: quaternion[3] });
    // Sleeping bodies froze their contact manifolds against the (gravity-free, joint-driven) fingers,
    // letting a closing finger pass through a resting puck; episodes are short, so never sleep.
    if (type === 'dynamic') desc.setCanSleep(false);
    const body = this.world.createRigidBody(desc);
    this.bodies.push(body);
    this.bodyNames.push(name);
    return body;
  }

  body(name: string): RigidBody {
    const i = this.bodyNames.indexOf(name);
    if (i < 0) throw new Error(`scene has no body named ${name}`);
    return this.bodies[i];
  }

  private nameOf(body: RigidBody): string {
    const i = this.bodies.indexOf(body);
    if (i < 0) throw new Error('body does not belong to this scene');
    return this.bodyNames[i];
  }

  addShape(body: RigidBody, shape: ShapeSpec, opts: ShapeOptions = {}): Collider | null {
    const position = opts.position ?? [0, 0, 0];
    const quaternion = opts.quaternion ?? IDENTITY_QUAT;
    this.visuals.push({
      body: this.nameOf(body),
      shape,
      position: [...position],
      quaternion: [...quaternion],
      color: opts.color ?? '#9aa0a6',
      collides: !opts.visualOnly,
      ...(opts.opacity !== undefined ? { opacity: opts.opacity } : {}),
    });
    if (opts.visualOnly) return null;
    const R = rapier();
    let desc: RAPIER_NS.ColliderDesc;
    let rot = quaternion;
    switch (shape.kind) {
      case 'box':
        desc = R.ColliderDesc.cuboid(...shape.halfExtents);
        break;
      case 'cylinder': {
        // Slightly rounded edges: same outer size, and a resting puck stays put (a 16-gon convex
        // hull rocked and crept ~4 mm on the table).
        const round = Math.min(0.002, shape.radius / 4, shape.halfHeight / 4);
        desc = R.ColliderDesc.roundCylinder(shape.halfHeight - round, shape.radius - round, round);
        rot = quatMul(quaternion, Y_TO_Z);
        break;
      }
      case 'capsule': {
        // Simulated as a rounded cylinder of the capsule's full length. With Rapier's capsule the
        // drawer expert's hand intermittently hung 5 cm above a handle it was not touching (26/30);
        // with this shape 30/30. The viewer still draws a capsule; the difference is the end caps.
        const round = shape.radius / 3;
        desc = R.ColliderDesc.roundCylinder(shape.halfHeight + shape.radius - round, shape.radius - round, round);
        rot = quatMul(quaternion, Y_TO_Z);
        break;
      }
      case 'sphere':
        desc = R.ColliderDesc.ball(shape.radius);
        break;
    }
    desc.setTranslation(position[0], position[1], position[2]);
    desc.setRotation({ x: rot[0], y: rot[1], z: rot[2], w: rot[3] });
    desc.setFriction(opts.friction ?? 0.5);
    if (opts.mass !== undefined) desc.setMass(opts.mass);
    else if (opts.density !== undefined) desc.setDensity(opts.density);
    if (opts.groups !== undefined) desc.setCollisionGroups(opts.groups);
    return this.world.createCollider(desc, body);
  }

  box(body: RigidBody, halfExtents: Vec3, opts: ShapeOptions = {}): Collider | null {
    return this.addShape(body, { kind: 'box', halfExtents: [...halfExtents] }, opts);
  }

  cylinder(body: RigidBody, radius: number, halfHeight: number, opts: ShapeOptions = {}): Collider | null {
    return this.addShape(body, { kind: 'cylinder', radius, halfHeight }, opts);
  }

  capsule(body: RigidBody, radius: number, halfHeight: number, opts: ShapeOptions = {}): Collider | null {
    return this.addShape(body, { kind: 'capsule', radius, halfHeight }, opts);
  }

  /**
   * Meta-World's table: top at z = 0, centred at (0, 0.6), 1.4 x 0.8 m. The retaining walls are
   * left out: nothing in these tasks reaches them, and they would only cost contact tests.
   * `withTop` false leaves the top to the task (sweep-into cuts a hole in it).
   */
  addTable(withTop = true): RigidBody {
    const table = this.addBody('table', 'fixed', [0, 0.6, 0]);
    // Thick (like Meta-World's 0.46 m collision box) so a puck squeezed against it cannot tunnel through.
    if (withTop) this.box(table, [0.7, 0.4, 0.1], { position: [0, 0, -0.1], color: '#b08a5a', friction: 0.5 });
    return table;
  }

  /** A non-colliding marker body (goal sites). Its pose is moved with `placeMarker`. */
  addMarker(name: string, position: Vec3, radius = 0.02, color = '#e74c3c'): RigidBody {
    const body = this.addBody(name, 'fixed', position);
    this.addShape(body, { kind: 'sphere', radius }, { visualOnly: true, color, opacity: 0.6 });
    return body;
  }

  step(): void {
    this.world.step();
  }

  geometry(task: string): SceneGeometry {
    return { task, up: 'z', units: 'm', bodies: [...this.bodyNames], visuals: this.visuals.map((v) => ({ ...v })) };
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.world.free();
  }
}
