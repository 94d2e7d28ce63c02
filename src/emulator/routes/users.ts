/**
 * Users (docs/dingtalk.md §7): mobile → userId, userId → details (with unionid), unionId → userId. topapi shapes.
 */
import { oapiAuth } from '../auth.js';
import { type Ctx, type Reply, str, topapiErr, topapiOk } from '../http-io.js';
import type { RouteTable } from '../route-table.js';

export function registerUserRoutes(routes: RouteTable): void {
  routes.add('POST', '/topapi/v2/user/getbymobile', byMobile);
  routes.add('POST', '/topapi/v2/user/get', getUser);
  routes.add('POST', '/topapi/user/getbyunionid', byUnionId);
}

function byMobile(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const mobile = str(ctx.field('mobile'));
  if (!mobile) return topapiErr(ctx, 40035, '缺少参数 mobile');
  if (mobile.length > 15) return topapiErr(ctx, 400002, '参数错误: mobile');
  const u = ctx.state.usersByMobile.get(mobile);
  if (!u) return topapiErr(ctx, 40104, '找不到该用户');
  return topapiOk(ctx, { userid: u.userId, exclusive_account_userid_list: [] });
}

function getUser(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const id = str(ctx.field('userid'));
  if (!id) return topapiErr(ctx, 40035, '缺少参数 userid');
  if (id.length > 64) return topapiErr(ctx, 33012, '无效的USERID');
  const u = ctx.state.users.get(id);
  if (!u) return topapiErr(ctx, 60121, '找不到该用户');
  return topapiOk(ctx, {
    userid: u.userId,
    unionid: u.unionId,
    name: u.name,
    avatar: '',
    mobile: u.mobile,
    state_code: '86',
    email: u.email ?? '',
    org_email: '',
    job_number: '',
    title: u.title ?? '',
    dept_id_list: [1],
    leader_in_dept: [{ dept_id: 1, leader: false }],
    // Only for someone whose manager is set (§7); a person without one gets no such field.
    ...(u.managerUserId !== undefined ? { manager_userid: u.managerUserId } : {}),
    hired_date: 0,
    active: true,
    admin: ctx.state.org.groups.some((g) => g.ownerUserId === u.userId),
    boss: false,
    senior: false,
    real_authed: true,
  });
}

function byUnionId(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const id = str(ctx.field('unionid'));
  if (!id) return topapiErr(ctx, 40035, '缺少参数 unionid');
  const u = ctx.state.usersByUnionId.get(id);
  if (!u) return topapiErr(ctx, 60121, '找不到该用户');
  return topapiOk(ctx, { userid: u.userId, contact_type: 0 });
}
