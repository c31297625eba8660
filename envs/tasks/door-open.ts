/**
 * door-open (Meta-World door-open-v2): swing a hinged cabinet door open by its handle.
 * The door is a dynamic panel on a real revolute joint about z (range [-2, 0] rad, damping 2 as in
 * Meta-World; limits set with setLimits, see rapier-gripper.md).
 * Handle, observed point, observed frame (the handle mesh's, see HANDLE_SITE) and masses as
 * Meta-World's.
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { sampleIn } from '../objects.js';
import { hamacherProduct, tolerance } from '../reward-utils.js';
import { add, distXY, norm, quatMul, rotate, slice3, sub, type Quat, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import { rapier } from '../physics.js';
import { scipySign } from './scipy-quat.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const OBJ_LOW: Vec3 = [0, 0.85, 0.15];
const OBJ_HIGH: Vec3 = [0.1, 0.95, 0.15];
const HINGE: Vec3 = [-0.185, -0.1, 0];
/**
 * Meta-World observes geom "handle", a mesh. MuJoCo's compiler moves a mesh geom's frame to the
 * mesh's centre of mass and principal axes (its default "legacy" inertia: pyramids from the face
 * centroid with absolute volumes, then a Jacobi eigen-decomposition with the axes sorted by
 * decreasing inertia). Worked out from door_handle.stl: centre (0.0507, 0, 0.0451) in mesh
 * coordinates, so the observed point is the geom position (0.325, -0.062, 0) plus that centre turned
 * by the geom's euler (1.57, 0, 0): (0.3757, -0.1071, 0), at the grip bar.
 */
const HANDLE_SITE: Vec3 = [0.3757, -0.1071, 0];
/**
 * The handle geom's frame on the door link: its euler (1.57, 0, 0) times the mesh's principal-axes
 * turn (w, x, y, z) = (0.5952, 0.3818, 0.3818, 0.5952) from the same computation, as x, y, z, w.
 */
const HANDLE_GEOM_TURN: Quat = [0.69076, -0.15062, 0.69088, 0.15117];

export class DoorOpenEnv extends SawyerEnv {
  readonly name = 'door-open';
  readonly description = 'Swing a hinged cabinet door open by its handle.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow: Vec3 = [-0.3, 0.4, 0.1499];
  protected readonly goalHigh: Vec3 = [-0.2, 0.5, 0.1501];
  private cabinetPos: Vec3 = [0.1, 0.95, 0.15];
  private door!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    this.cabinetPos = sampleIn(rng, OBJ_LOW, OBJ_HIGH);
  }

  protected buildObjects(scene: Scene): void {
    const R = rapier();
    const c = this.cabinetPos;
    const cabinet = scene.addBody('door_cabinet', 'fixed', c);
    const wood = { color: '#6d4c41', friction: 0.5 };
    scene.box(cabinet, [0.016, 0.106, 0.15], { ...wood, position: [0.204, 0, 0] });
    scene.box(cabinet, [0.016, 0.106, 0.15], { ...wood, position: [-0.204, 0, 0] });
    scene.box(cabinet, [0.188, 0.106, 0.012], { ...wood, position: [0, 0, 0.138] });
    scene.box(cabinet, [0.188, 0.106, 0.012], { ...wood, position: [0, 0, -0.138] });
    scene.box(cabinet, [0.188, 0.012, 0.126], { ...wood, position: [0, 0.094, 0], visualOnly: true });

    this.door = scene.addBody('door', 'dynamic', add(c, HINGE));
    // Meta-World's door link has no explicit masses: MuJoCo gives its collision geoms density 1000,
    // 1.77 kg of panel and 0.46 kg of handle.
    scene.box(this.door, [0.18, 0.01, 0.123], { position: [0.185, 0, 0], color: '#a1887f', mass: 1.77, friction: 0.5 });
    const metal = { color: '#b0b7bf', friction: 1 };
    const alongY: Quat = [-Math.SQRT1_2, 0, 0, Math.SQRT1_2];
    const alongX: Quat = [0, Math.SQRT1_2, 0, Math.SQRT1_2];
    // Meta-World's handle (doorlockB.xml collision cylinders): a base and a standoff along y at 0.325 m
    // from the hinge, and a grip bar along x 0.12 m out in front of the panel.
    scene.cylinder(this.door, 0.028, 0.012, { ...metal, mass: 0.059, position: [0.325, -0.006, 0], quaternion: alongY });
    scene.cylinder(this.door, 0.013, 0.047, { ...metal, mass: 0.05, position: [0.325, -0.065, 0], quaternion: alongY });
    scene.cylinder(this.door, 0.019, 0.075, { ...metal, mass: 0.17, position: [0.381, -0.12, 0], quaternion: alongX });
    scene.cylinder(this.door, 0.023, 0.054, { ...metal, mass: 0.179, position: [0.395, -0.12, 0], quaternion: alongX });


    const data = R.JointData.revolute({ x: HINGE[0], y: HINGE[1], z: HINGE[2] }, { x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 1 });
    const joint = scene.world.createImpulseJoint(data, cabinet, this.door, true) as RAPIER_NS.RevoluteImpulseJoint;
    joint.setLimits(-2, 0); // limits passed through JointData are ignored for revolute joints in 0.21
    joint.setContactsEnabled(false);
    joint.configureMotorModel(R.MotorModel.ForceBased);
    joint.configureMotorVelocity(0, 2); // Meta-World's hinge damping 2 N·m·s/rad
  }

  private doorQuat(): Quat {
    const q = this.door.rotation();
    return [q.x, q.y, q.z, q.w];
  }

  /** Hinge angle (negative = open). */
  private angle(): number {
    const q = this.door.rotation();
    return 2 * Math.atan2(q.z, q.w);
  }

  protected writeObjects(obs: Float32Array): void {
    const t = this.door.translation();
    const q = this.doorQuat();
    const h = add([t.x, t.y, t.z], rotate(q, HANDLE_SITE));
    // Meta-World: Rotation.from_matrix(geom_xmat('handle')).as_quat(), the handle geom's frame in
    // scipy's x-first order and sign.
    const g = quatMul(q, HANDLE_GEOM_TURN);
    const sign = scipySign(g[0], g[1], g[2], g[3]);
    obs.set([...h, sign * g[0], sign * g[1], sign * g[2], sign * g[3]], 4);
  }

  protected extraRewardInputs(): Record<string, number | number[]> {
    return { doorjoint: this.angle() };
  }

  goal(): Vec3 {
    return add(this.cabinetPos, [-0.3, -0.45, 0]);
  }

  protected evaluate(a: Float32Array): Evaluation {
    const theta = this.angle();
    const handle = slice3(this.obs, 4);
    const hand = this.handPos();
    const grab = (Math.min(Math.max(a[3], -1), 1) + 1) / 2;
    const door: Vec3 = [handle[0] - 0.05, handle[1], handle[2]];
    const r = distXY(hand, door);
    const floor = r <= 0.12 ? 0 : 0.04 * Math.log(r - 0.12) + 0.4;
    const aboveFloor = hand[2] >= floor ? 1 : tolerance(floor - hand[2], [0, 0.01], floor / 2, 'long_tail');
    const inPlace = tolerance(norm(sub(sub(hand, door), [0.05, 0.03, -0.01])), [0, 0.06], 0.5, 'long_tail');
    const ready = hamacherProduct(aboveFloor, inPlace);
    const opened = 0.2 * (theta < -Math.PI / 90 ? 1 : 0) + 0.8 * tolerance(Math.PI / 2 + Math.PI / 6 + theta, [0, 0.5], Math.PI / 3, 'long_tail');
    const success = Math.abs(handle[0] - this.goal()[0]) <= 0.08;
    const reward = success ? 10 : 2 * hamacherProduct(ready, grab) + 8 * opened;
    return {
      reward,
      info: makeInfo(reward, success, {
        near_object: ready,
        grasp_success: grab >= 0.5 ? 1 : 0,
        grasp_reward: grab,
        in_place_reward: opened,
        obj_to_target: 0,
        door_angle: theta,
      }),
    };
  }
}

/**
 * Meta-World's door-open expert (gain 25, fist closed): hover over the approach point, descend
 * behind the grip bar, pull toward "handle - 5 cm in x". Two changes: Meta-World starts descending
 * anywhere within 12 cm (xy) of the handle, which drives our fist onto the bar from the side (10/20
 * episodes), so it also keeps hovering until within 2 cm (xy) of the approach point; and the
 * approach point is 3 cm behind the observed handle instead of 2, since our closed fingers reach
 * 2.1 cm to each side of the hand and would land on the bar's back edge.
 */
export function doorOpenPolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const door: Vec3 = [o.obj[0] - 0.05, o.obj[1], o.obj[2]];
  const approach: Vec3 = [door[0] + 0.06, door[1] + 0.03, door[2]];
  const high = o.hand[2] - door[2] > 0.04;
  let to: Vec3;
  if (distXY(o.hand, door) > 0.12 || (high && distXY(o.hand, approach) > 0.02)) to = [approach[0], approach[1], door[2] + 0.2];
  else if (Math.abs(o.hand[2] - door[2]) > 0.04) to = approach;
  else to = door;
  return action(move(o.hand, to, 25), 1);
}
