/**
 * Sawyer-like hand driven like Meta-World's mocap, built from the measured Rapier recipe
 * (shared/reference/rapier-gripper.md):
 * - a kinematic "mocap" anchor moves to the commanded position, interpolated over the substeps;
 * - the palm is a dynamic body tied to the anchor by a generic joint whose three linear axes are
 *   force-based position motors (bounded force, ~2.6 mm tracking lag at full speed): unlike a
 *   kinematic hand it cannot tear finger joints apart when driven into the table or a joint limit;
 * - two fingers on prismatic joints along world y (Meta-World's closing axis): a position servo
 *   holds them open; closing is a speed-limited, force-capped velocity motor, so a held object is
 *   squeezed with a bounded force (see setGripper).
 * Rotations are locked: Meta-World resets the mocap orientation to "pointing down" every step.
 */
import type RAPIER_NS from '@dimforge/rapier3d-compat';
import { rapier } from './physics.js';
import { ROBOT_GROUPS, type Scene, FRAME_SKIP } from './scene.js';
import { clamp, type Vec3 } from './vec.js';

type RigidBody = RAPIER_NS.RigidBody;

/**
 * Palm-to-pad-centre drop along z. Meta-World's experts grasp with the hand 3-5 cm above the object
 * centre, so the pads hang below the hand origin; their bottoms clear the table by 2 mm with the
 * hand at its 5 cm floor.
 */
export const FINGER_DROP = 0.028;
/** Finger pad half extents (x: width, y: thickness along the closing axis, z: height). */
export const FINGER_HALF: Vec3 = [0.035, 0.006, 0.02];
/**
 * Fingertip sites (Meta-World's rightEndEffector / leftEndEffector, whose midpoint is the TCP) sit
 * this far below the pad centres: Meta-World's sites are 0.045 m along the claws, whose origins are
 * level with the hand origin, so the TCP hangs 4.5 cm below the hand there and here
 * (FINGER_DROP + TIP_DROP). Every expert moves the hand and every reward measures the TCP, so this
 * offset is what the two share.
 */
export const TIP_DROP = 0.045 - 0.028;
/**
 * Finger centre travel along y on each side: fully open at 5 cm (10 cm apart, as Meta-World's
 * claws), closed limit at 1.5 cm, so an empty closed gripper leaves Meta-World's 1.8 cm gap between
 * the pads and reads 0.3 in obs[3] as there (its claws stop at 3 cm apart, pads 1.2 cm thick in all).
 */
export const FINGER_OPEN = 0.05;
/** Palm half extents: narrower than the open fingers in y, so a hand fits between a handle and its door. */
export const PALM_HALF: Vec3 = [0.035, 0.03, 0.012];
export const WRIST_RADIUS = 0.025;
export const FINGER_CLOSED = 0.015;
/**
 * Meta-World's pad bodies ("leftpad"/"rightpad", whose COMs the caging rewards read) are 6 mm plates
 * on the inner side of the claws: their centre is 3 mm behind the gripping face. Our pad is one 12 mm
 * finger, so the reported pad point is moved inward from the finger centre to the same depth.
 */
export const PAD_COM_DEPTH = 0.003;

const PALM_K = 2e4; // N/m
const PALM_C = 400; // N·s/m
/**
 * Cap on the palm spring's force. The mocap keeps running ahead while the hand is blocked (as
 * Meta-World's does), so the uncapped spring pushed with kN; Rapier's contacts soften with the
 * lighter body's mass, and the 0.05 kg fingers then sank 3 cm into button-press-topdown's cap and
 * were forced open (success held 74% of the steps after first reached, mean reward 2.0 vs 7.4
 * capped). At 400 N every expert still succeeds (10 seeded episodes per task, measured).
 */
const PALM_MAX_F = 400; // N
// Opening servo.
const FINGER_K = 300; // N/m
const FINGER_C = 20; // N·s/m
const FINGER_MAX_F = 30; // N
// Closing: speed-limited, force-capped.
const CLOSE_SPEED = 0.12; // m/s per finger: ~16 env steps from open to gripping a 4 cm puck
const CLOSE_GAIN = 1000; // N·s/m, high so the force cap, not the gain, sets the squeeze
/**
 * Meta-World's finger actuators are position servos, kp = 400, whose target is the raw effort (in
 * metres of joint travel, far beyond the 4 cm range): the squeeze is 400 * (effort - travel), ~390 N at
 * effort 1 and ~30 N at 0.1. We follow that law up to GRIP_FORCE_CAP. Measured (seeds 1000-1049,
 * scripted experts): cap 30 N: pick-place 100%, bin-picking 98%, peg-insert-side 100%; cap 45 N:
 * pick-place 83%, bin-picking 30%; uncapped (390 N): pick-place 97%, bin-picking 27%, pads sunk
 * 6-7 mm into the puck (obs[3] 0.36-0.40 instead of 0.52) and the squeezed puck pushed into the table.
 * Rapier's contacts are springs (100 Hz here); 200 Hz contacts with a 60 N cap: bin-picking 23%.
 */
const GRIP_KP = 400; // N per metre of (effort - travel)
const GRIP_FORCE_CAP = 30; // N

export class SawyerHand {
  readonly mocap: RigidBody;
  readonly palm: RigidBody;
  readonly leftFinger: RigidBody; // +y side (Meta-World "leftpad")
  readonly rightFinger: RigidBody; // -y side ("rightpad")
  private readonly leftJoint: RAPIER_NS.PrismaticImpulseJoint;
  private readonly rightJoint: RAPIER_NS.PrismaticImpulseJoint;
  /** Current and previous mocap targets; the anchor is moved between them over the substeps. */
  readonly mocapPos: Vec3;
  private readonly prevMocap: Vec3;

  constructor(scene: Scene, init: Vec3, opening = 1) {
    const R = rapier();
    this.mocapPos = [...init];
    this.prevMocap = [...init];
    this.mocap = scene.addBody('mocap', 'kinematic', init);

    this.palm = scene.addBody('hand', 'dynamic', init);
    this.palm.setGravityScale(0, false);
    this.palm.enableCcd(false);
    scene.box(this.palm, PALM_HALF, { position: [0, 0, 0.02], mass: 1, color: '#34495e', groups: ROBOT_GROUPS, friction: 1 });
    // The wrist collides, as the Sawyer's hand and wrist do in Meta-World: the button-press and
    // window experts push with the hand 7-8 cm below the part they move, i.e. with the wrist.
    scene.cylinder(this.palm, WRIST_RADIUS, 0.04, { position: [0, 0, 0.072], color: '#c0392b', groups: ROBOT_GROUPS, mass: 0.01 });

    const lock = R.JointAxesMask.AngX | R.JointAxesMask.AngY | R.JointAxesMask.AngZ;
    const weld = R.JointData.generic({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0 }, { x: 1, y: 0, z: 0 }, lock);
    // The generic joint object exposes per-axis motors at runtime (typed as the spherical joint's API).
    const j = scene.world.createImpulseJoint(weld, this.mocap, this.palm, true) as unknown as RAPIER_NS.SphericalImpulseJoint;
    for (const axis of [R.JointAxis.LinX, R.JointAxis.LinY, R.JointAxis.LinZ]) {
      j.configureMotorModel(axis, R.MotorModel.ForceBased);
      j.configureMotorPosition(axis, 0, PALM_K, PALM_C);
      j.setMotorMaxForce(axis, PALM_MAX_F);
    }

    const q = clamp(opening, 0, 1) * FINGER_OPEN;
    const w = Math.max(q, FINGER_CLOSED);
    this.leftFinger = this.makeFinger(scene, 'leftpad', [init[0], init[1] + w, init[2] - FINGER_DROP]);
    this.rightFinger = this.makeFinger(scene, 'rightpad', [init[0], init[1] - w, init[2] - FINGER_DROP]);
    this.leftJoint = this.makeFingerJoint(scene, this.leftFinger, [FINGER_CLOSED, FINGER_OPEN]);
    this.rightJoint = this.makeFingerJoint(scene, this.rightFinger, [-FINGER_OPEN, -FINGER_CLOSED]);
    this.setGripper(-1);
  }

  private makeFinger(scene: Scene, name: string, pos: Vec3): RigidBody {
    const f = scene.addBody(name, 'dynamic', pos);
    f.setGravityScale(0, false);
    // The pad (gripping surface, whose centre is the body origin) and a finger link up to the palm,
    // one collider: without the link a puck could slip into the gap between pads and palm.
    const link = FINGER_DROP + 0.008 + FINGER_HALF[2]; // pad bottom up to the palm's underside
    scene.box(f, [FINGER_HALF[0], FINGER_HALF[1], link / 2], { position: [0, 0, link / 2 - FINGER_HALF[2]], mass: 0.05, friction: 1, color: '#7f8c8d', groups: ROBOT_GROUPS });
    // Friction rule Max: a finger grips with mu = 1 whatever the object's coefficient.
    const c = f.collider(0);
    c.setFrictionCombineRule(rapier().CoefficientCombineRule.Max);
    return f;
  }

  private makeFingerJoint(scene: Scene, finger: RigidBody, limits: [number, number]): RAPIER_NS.PrismaticImpulseJoint {
    const R = rapier();
    const data = R.JointData.prismatic({ x: 0, y: 0, z: -FINGER_DROP }, { x: 0, y: 0, z: 0 }, { x: 0, y: 1, z: 0 });
    data.limitsEnabled = true;
    data.limits = limits;
    const joint = scene.world.createImpulseJoint(data, this.palm, finger, true) as RAPIER_NS.PrismaticImpulseJoint;
    joint.setContactsEnabled(false);
    joint.setLimits(limits[0], limits[1]);
    joint.configureMotorModel(R.MotorModel.ForceBased);
    return joint;
  }

  /**
   * Meta-World's gripper effort: its finger servos target the raw effort in joint units, so effort
   * <= 0 holds the fingers open and effort > 0 closes them, slowly (armature 100: about 15 env steps
   * to close) and with a force that grows with the effort. Here: effort <= 0 is a position servo to
   * the open limit; effort > 0 is a velocity motor closing at CLOSE_SPEED whose force is capped at
   * Meta-World's servo force GRIP_KP * (effort - travel), itself capped at GRIP_FORCE_CAP, so a held
   * object is squeezed with that force. The slow close matters: the scripted experts start closing
   * while the hand is still descending onto the object.
   */
  setGripper(effort: number): void {
    if (effort <= 0) {
      for (const [j, sign] of [[this.leftJoint, 1], [this.rightJoint, -1]] as const) {
        j.setMotorMaxForce(FINGER_MAX_F);
        j.configureMotorPosition(sign * FINGER_OPEN, FINGER_K, FINGER_C);
      }
      return;
    }
    const f = gripForce(effort, this.fingerTravel());
    this.leftJoint.setMotorMaxForce(f);
    this.leftJoint.configureMotorVelocity(-CLOSE_SPEED, CLOSE_GAIN);
    this.rightJoint.setMotorMaxForce(f);
    this.rightJoint.configureMotorVelocity(CLOSE_SPEED, CLOSE_GAIN);
  }

  /** How far the fingers have closed from fully open (mean of the two; 0 open, 0.035 at the closed limit). */
  fingerTravel(): number {
    return FINGER_OPEN - (this.leftFinger.translation().y - this.rightFinger.translation().y) / 2;
  }

  /** Sets the new mocap target (already clipped by the caller); the anchor moves there over the substeps. */
  setMocap(target: ArrayLike<number>): void {
    this.prevMocap[0] = this.mocapPos[0];
    this.prevMocap[1] = this.mocapPos[1];
    this.prevMocap[2] = this.mocapPos[2];
    this.mocapPos[0] = target[0];
    this.mocapPos[1] = target[1];
    this.mocapPos[2] = target[2];
  }

  /** Before substep i (0-based) of an env step. */
  driveAnchor(i: number): void {
    const s = (i + 1) / FRAME_SKIP;
    const p = this.prevMocap;
    const m = this.mocapPos;
    this.mocap.setNextKinematicTranslation({ x: p[0] + (m[0] - p[0]) * s, y: p[1] + (m[1] - p[1]) * s, z: p[2] + (m[2] - p[2]) * s });
  }

  handPos(): Vec3 {
    const t = this.palm.translation();
    return [t.x, t.y, t.z];
  }

  /** Meta-World's get_body_com('leftpad'): PAD_COM_DEPTH behind the +y finger's gripping face. */
  leftPad(): Vec3 {
    const t = this.leftFinger.translation();
    return [t.x, t.y - (FINGER_HALF[1] - PAD_COM_DEPTH), t.z];
  }

  /** Meta-World's get_body_com('rightpad') (the -y finger). */
  rightPad(): Vec3 {
    const t = this.rightFinger.translation();
    return [t.x, t.y + (FINGER_HALF[1] - PAD_COM_DEPTH), t.z];
  }

  /**
   * Meta-World's leftEndEffector site: on the finger's mid-plane (6 mm behind the gripping face, as
   * the site on Meta-World's claw, whose 3 mm claw plate backs a 6 mm pad), TIP_DROP below the pad centre.
   */
  leftTip(): Vec3 {
    const t = this.leftFinger.translation();
    return [t.x, t.y, t.z - TIP_DROP];
  }

  /** Meta-World's rightEndEffector site. */
  rightTip(): Vec3 {
    const t = this.rightFinger.translation();
    return [t.x, t.y, t.z - TIP_DROP];
  }
}

/** Squeeze of each finger at `effort` in (0, 1] with the fingers `travel` m closed (see GRIP_KP). */
export function gripForce(effort: number, travel: number): number {
  return Math.min(GRIP_FORCE_CAP, Math.max(0, GRIP_KP * (Math.min(effort, 1) - travel)));
}

/** Meta-World's tcp_center: the midpoint of the two fingertip sites. */
export function tcpFromTips(l: Vec3, r: Vec3): Vec3 {
  return [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2, (l[2] + r[2]) / 2];
}

/**
 * obs[3], Meta-World's definition: the distance between the fingertip sites / 0.1, clipped to
 * [0, 1]. Sites, pad thickness and travel match Meta-World's in the closing axis, so the readings do
 * too: 1 fully open, 0.3 closed on nothing, 0.52 closed on the 4 cm puck or cube.
 */
export const OPENING_SCALE = 0.1;
export function gripperOpening(l: Vec3, r: Vec3): number {
  return clamp(Math.hypot(l[0] - r[0], l[1] - r[1], l[2] - r[2]) / OPENING_SCALE, 0, 1);
}
