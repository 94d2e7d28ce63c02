/**
 * The demo org seeded when no fixture is given: what `npm start` and the hub's tests run against. Every secret
 * here is fake and fine to print. Shapes follow docs/dingtalk.md: robot tokens are 64 hex (docs/dingtalk.md §2), signing secrets
 * start with `SEC` (§2.2), the app robot's robotCode equals the appKey (§3), group ids look like `cid...` and
 * `chat...` (§4), the callback AES key is 43 alphanumerics (§9b).
 */
import type { EmulatorFixture } from './types.js';

export const DEMO_CORP_ID = 'dingdemocorp0000000001';

/** A fresh deep copy each call, so a test mutating its org never leaks into the next emulator. */
export function demoOrg(): EmulatorFixture {
  return {
    version: 1,
    org: {
      corpId: DEMO_CORP_ID,
      name: 'Dingkit Demo 示例公司',
      apps: [
        {
          appKey: 'dingdemoappkey000001',
          appSecret: 'demo-app-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
          agentId: 3001001,
          robotCode: 'dingdemoappkey000001',
          name: 'Dingkit Hub',
          callback: {
            token: 'demoCallbackToken1',
            aesKey: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
          },
        },
      ],
      users: [
        {
          userId: 'zhangsan',
          unionId: 'unionZhangSan0001',
          mobile: '13800000001',
          name: '张三',
          title: '工程师',
          // The org's main administrator (免登 answers sys_level 1, docs/dingtalk.md §13.2).
          sysLevel: 1,
        },
        {
          userId: 'lisi',
          unionId: 'unionLiSi00000002',
          mobile: '13800000002',
          name: '李四',
          title: '产品经理',
          // Managers (manager_userid of topapi/v2/user/get, docs/dingtalk.md §7): an overdue task of 李四's or
          // 王五's escalates to 张三 with `tasks.escalateTo: ['manager']`.
          managerUserId: 'zhangsan',
        },
        {
          userId: 'wangwu',
          unionId: 'unionWangWu000003',
          mobile: '13800000003',
          name: '王五',
          title: '设计师',
          managerUserId: 'zhangsan',
        },
        {
          userId: 'alice',
          unionId: 'unionAlice0000004',
          mobile: '13800000004',
          name: 'Alice Chen',
          title: 'SRE',
          managerUserId: 'bob',
        },
        { userId: 'bob', unionId: 'unionBob000000005', mobile: '13800000005', name: 'Bob Li', title: 'QA' },
      ],
      groups: [
        {
          openConversationId: 'cidDemoEngineering0001==',
          chatid: 'chatdemo00000000000000000000000001',
          name: '研发群 Engineering',
          ownerUserId: 'zhangsan',
          members: ['zhangsan', 'lisi', 'wangwu', 'alice', 'bob'],
          robotCodes: ['dingdemoappkey000001'],
        },
        {
          openConversationId: 'cidDemoOps000000002==',
          chatid: 'chatdemo00000000000000000000000002',
          name: '运维值班 Ops',
          ownerUserId: 'alice',
          members: ['alice', 'bob', 'zhangsan'],
          robotCodes: ['dingdemoappkey000001'],
        },
        {
          openConversationId: 'cidDemoProduct000003==',
          chatid: 'chatdemo00000000000000000000000003',
          name: '产品讨论 Product',
          ownerUserId: 'lisi',
          members: ['lisi', 'wangwu', 'alice'],
          robotCodes: [],
        },
      ],
      customRobots: [
        {
          name: 'alerts',
          token: 'a1e7b0d5c3f2e8a9b4c6d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5',
          group: 'cidDemoOps000000002==',
          security: { secret: 'SECdemo0123456789abcdef0123456789abcdef0123456789abcdef0123456789' },
        },
        {
          name: 'news',
          token: 'b2f8c1e6d4a3f9b0c5d7e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6',
          group: 'cidDemoProduct000003==',
          security: { keywords: ['通知', 'notice'] },
        },
      ],
    },
  };
}

/** The demo org as a constant (a frozen snapshot; use `demoOrg()` for a mutable copy). */
export const DEMO_ORG: Readonly<EmulatorFixture> = Object.freeze(demoOrg());
