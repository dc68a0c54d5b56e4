"""The roles of SPEC.md's actor table, and the data-scope level each one has.

Role names are Chinese because they are what administrators see in the user editor.
Permissions per role are regexes over (view, permission) in ROLE_PERMISSIONS, fed to
Flask-AppBuilder as built-in roles: checked in memory, no database query per check.
"""
CITY_ADMIN = "市继教办"
DISTRICT_ADMIN = "区卫健委"
INSTITUTION_ADMIN = "机构管理员"
DEPARTMENT_SECRETARY = "科室秘书"
EXPERT = "审验专家"
SITE_MANAGER = "现场会务负责人"
TECHNICIAN = "学员"
DISTANCE_INSTITUTION = "远程教育机构"  # 远程继续医学教育机构 (seed 002 一 4, 三 4; issue 16.11)

ALL_ROLES = [CITY_ADMIN, DISTRICT_ADMIN, INSTITUTION_ADMIN, DEPARTMENT_SECRETARY, EXPERT,
             SITE_MANAGER, TECHNICIAN, DISTANCE_INSTITUTION]

# Data-scope level of each role: which anchor column limits the rows it sees.
ROLE_SCOPE = {
    CITY_ADMIN: "all",
    DISTRICT_ADMIN: "district",
    INSTITUTION_ADMIN: "institution",
    DEPARTMENT_SECRETARY: "department",
    EXPERT: "none",  # audit allocation widens this in the audit module
    SITE_MANAGER: "none",
    TECHNICIAN: "person",
    DISTANCE_INSTITUTION: "institution",  # its own projects and uploads only (no credit or person view)
}
# Which organization kind a user of the role is anchored to.
ROLE_ANCHOR_KIND = {
    CITY_ADMIN: "city",
    DISTRICT_ADMIN: "district",
    INSTITUTION_ADMIN: "institution",
    DEPARTMENT_SECRETARY: "department",
    DISTANCE_INSTITUTION: "institution",
}

_READ = "can_list|can_show|menu_access|can_export|can_api_read"
_WRITE = "can_list|can_show|can_add|can_edit|can_delete|menu_access|can_export|can_import|can_template|can_picker|can_get|can_put|can_post|can_delete|can_info|can_read|can_write|can_muldelete|muldelete"  # FAB names bulk-action permissions without "can_"
_COMMON = [
    ["HomeView", ".*"],
    ["JobView", ".*"],
    ["UserInfoEditView", ".*"],
    ["ResetMyPasswordView", ".*"],
    ["CmeUserDBModelView", "can_userinfo|resetmypassword|userinfoedit"],  # the profile page (navbar "个人资料")
    ["DictPickerApi", ".*"],
    ["个人信息|我的任务", "menu_access"],
]
# Rule sets and standards are edited by the city only; district and institution admins read them
# (试算 included) and see the statistics page inside their scope.
_RULES_READ = ["RuleSetView|CreditStandardView", "can_list|can_show"]
_STATS = ["StatsView", "can_read"]
_RULES_MENU = ["授分规则|规则集|授分标准|统计分析|达标统计", "menu_access"]
# Credit records and compliance results: scoped roles list, show and export them and open a person's
# transcript; district and institution admins start the 达标计算 job; the technician sees own only.
_CREDITS = [
    ["CreditView|ComplianceResultView", "can_list|can_show|can_export"],
    ["TranscriptView", "can_read"],
    ["CreditApi", "can_get|can_info"],
    ["ComplianceApi", "can_get"],
    ["CreditRulesApi", "can_compute"],
    ["学分管理|学分记录|达标结果", "menu_access"],
]
_RECOMPUTE = ["ComplianceResultView", "can_recompute"]
_OWN_CREDITS = [
    ["CreditView", "can_list|can_show"],
    ["TranscriptView", "can_read|can_me"],
    ["CreditApi", "can_get|can_info"],
    ["ComplianceApi", "can_get"],
    ["CreditRulesApi", "can_compute"],
    ["学分管理|学分记录|我的学分档案", "menu_access"],
]

# 可授学分的继续医学教育活动 (issue 4 points 1, 2, 4): the unified entry, each type's page and the credit
# wizard for every unit role; practice plans uploaded by institutions, reviewed by districts (city: all).
_ACTIVITIES_MENU = ("可授学分的继续医学教育活动$|活动总览$|继续医学教育项目$|进修学习$|在职学历\\(学位\\)教育$|"
                    "有组织的继续医学教育实践活动$|政府指令性医疗卫生任务$|有计划的自学$|符合规定的其他方式$")
_ACTIVITIES = [["ActivityView$", "can_read$|can_grant$"], [_ACTIVITIES_MENU, "menu_access"]]
_PLANS_UPLOAD = [["PracticePlanView$", "can_list|can_show|can_add|can_edit|can_delete|can_file|muldelete"],
                 ["教学活动计划上传$", "menu_access"]]
_PLANS_REVIEW = [["PracticePlanReviewView$", "can_list|can_show|can_review|can_file"],
                 ["教学活动计划审核$", "menu_access"]]

ROLE_PERMISSIONS = {
    CITY_ADMIN: [[".*", ".*"]],
    DISTRICT_ADMIN: _COMMON + [
        ["OrgView|InstitutionView|DepartmentView|PersonView|PersonApi|OrgApi", _WRITE],
        ["PersonView$", "can_accounts"],  # 批量开通账号 / 重置密码 of technicians (seed 002 附件一2)
        # Its own district node: read and edit its contact data, never add or delete districts.
        ["DistrictView", _READ + "|can_edit"],
        ["NoticeView", _WRITE],
        ["DictItemView|DictTypeView|ParameterView", _READ],
        _RULES_READ, _STATS, _RULES_MENU,
        ["组织机构|区县|医疗机构|科室|人员管理|学员|人员导入|系统管理|字典管理|字典数据|通知公告|参数设置",
         "menu_access"],
    ] + _CREDITS + [_RECOMPUTE] + _ACTIVITIES + _PLANS_REVIEW,
    INSTITUTION_ADMIN: _COMMON + [
        ["DepartmentView|PersonView|PersonApi|OrgApi", _WRITE],
        ["PersonView$", "can_accounts"],  # 批量开通账号 / 重置密码 of technicians (seed 002 附件一2)
        ["InstitutionView", _READ.replace("|can_export", "") + "|can_edit"],
        # Notices are read on the home page (/notice/<id>); the notice admin is for publishers.
        ["组织机构|医疗机构|科室|人员管理|学员|人员导入", "menu_access"],
        _RULES_READ, _STATS, _RULES_MENU,
    ] + _CREDITS + [_RECOMPUTE] + _ACTIVITIES + _PLANS_UPLOAD,
    DEPARTMENT_SECRETARY: _COMMON + [
        ["PersonView|PersonApi", _READ + "|can_get|can_info|can_read"],
        ["人员管理|学员", "menu_access"],
    ] + _CREDITS + _ACTIVITIES,
    EXPERT: _COMMON,
    SITE_MANAGER: _COMMON,
    TECHNICIAN: _COMMON + _OWN_CREDITS,
}

# Manual entry of non-project credits and its review (ICME-8), self-study (ICME-7): issue 4 points 3, 5, 6.
_MANUAL_OWN = [["ManualCreditView$", "can_list$|can_show$|can_add$|can_edit$|can_submit$|can_file$"],
               ["SelfStudyView$", "can_mine$|can_form$|can_file$"],
               ["手工录入学分$|我的自学计划$", "menu_access"]]
_MANUAL_UNIT = [["ManualCreditView$", "can_list$|can_show$|can_add$|can_file$"],
                ["CreditReviewView$", "can_list$|can_review$"], ["手工录入学分$|学分审核$", "menu_access"]]
_MANUAL_READ = [["ManualCreditView$", "can_list$|can_show$|can_file$"], ["手工录入学分$", "menu_access"]]
_SELF_STUDY_SUPERVISE = [["SelfStudyView$", "can_list$|can_show$|can_form$|can_grant$|can_return$|can_file$"],
                         ["SelfStudyDelegationView$", "can_list$|can_set$"],
                         ["自学管理$|有计划的自学列表$|自学计划权限设置$", "menu_access"]]
for _role, _extra in {DISTRICT_ADMIN: _MANUAL_READ + _SELF_STUDY_SUPERVISE,
                      INSTITUTION_ADMIN: _MANUAL_UNIT + _SELF_STUDY_SUPERVISE,
                      DEPARTMENT_SECRETARY: _MANUAL_READ, TECHNICIAN: _MANUAL_OWN}.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] + _extra

# 学分审验 administration (issue 7 points 1–5): the city runs it all ([".*", ".*"]); a district keeps
# sampling standards of its own district and draws them inside the cycle's sampled institutions.
_AUDIT_DISTRICT = [["AuditStandardView$", _WRITE + "|can_draw"],
                   ["AuditDrawView$", "can_list|can_show|can_rerun"],
                   ["AuditListView$", "can_read|can_write"],
                   ["学分审验$|审验标准设置$|抽取记录$", "menu_access"]]
ROLE_PERMISSIONS[DISTRICT_ADMIN] = ROLE_PERMISSIONS[DISTRICT_ADMIN] + _AUDIT_DISTRICT

# 项目督查 (issue 6, SUP-1..7): units file projects, name site managers and read feedback; districts review
# filings, score, publish and export; the 现场会务负责人 uses only the phone pages of its own project.
_SUP_UNIT = [["FilingView$", "can_list$|can_show$|can_add$|can_edit$|can_delete$|can_submit$|can_import$|can_file$|"
              "can_manager$|muldelete$"],
             ["SupervisionView$", "can_list$"], ["项目督查$|项目报备$|督查管理$", "menu_access"]]
_SUP_REVIEW = [["FilingReviewView$", "can_list$|can_show$|can_review$|can_file$|can_delete$|can_return$"],
               ["SupervisionView$", "can_list$|can_score$|can_publish$|can_export$"],
               ["项目督查$|报备审核$|督查管理$", "menu_access"]]
ROLE_PERMISSIONS[INSTITUTION_ADMIN] = ROLE_PERMISSIONS[INSTITUTION_ADMIN] + _SUP_UNIT
ROLE_PERMISSIONS[DISTRICT_ADMIN] = ROLE_PERMISSIONS[DISTRICT_ADMIN] + _SUP_REVIEW
ROLE_PERMISSIONS[SITE_MANAGER] = ROLE_PERMISSIONS[SITE_MANAGER] + [["SiteMobileView$", ".*"]]

# 专家审验, 审验结果, 复审 (issue 7 points 6–8): the expert judges the persons allocated to them and reads their
# results; district and institution admins read their people's results, print certificates, export, and
# appeal (复审) unqualified materials until the deadline; the city decides appeals ([".*", ".*"]).
_AUDIT_EXPERT = [["AuditReviewView$", "can_read$|can_judge$"], ["AuditReviewApi$", "can_get$|can_post$"],
                 ["AuditResultView$", "can_read$"], ["学分审验$|专家审验$|审验学员$|审验结果$", "menu_access"]]
_AUDIT_UNIT = [["AuditResultView$", "can_read$|can_certificate$|can_export$"],
               ["AuditAppealView$", "can_read$|can_appeal$"], ["学分审验$|审验结果$|审验复审$", "menu_access"]]
ROLE_PERMISSIONS[EXPERT] = ROLE_PERMISSIONS[EXPERT] + _AUDIT_EXPERT
for _role in (DISTRICT_ADMIN, INSTITUTION_ADMIN):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] + _AUDIT_UNIT

# 继教项目 (issue 5, ICME-4/5): units add catalogue projects, complete them, add topics with sign-in windows,
# upload card-reader files, check people in by hand and grant; districts read their district's projects and
# flags; the city (all) keeps the catalogue and the holiday list. The phone sign-in page is public.
_PROJECTS_MENU = ["继教项目$|添加继教项目$|继教项目管理$|课程微信签到时间设置$", "menu_access"]
_PROJECTS_UNIT = [["ProjectCatalogView$", "can_list$|can_show$|can_adopt$"],
                  ["ProjectView$", "can_list$|can_show$|can_edit$|can_delete$|can_export$|can_apply$|can_attendance$|"
                   "can_checkin$|can_grant$"],
                  ["TopicView$", "can_list$|can_show$|can_add$|can_edit$|can_delete$|can_qr$|muldelete$"],
                  _PROJECTS_MENU]
_PROJECTS_READ = [["ProjectCatalogView$", "can_list$|can_show$"],
                  ["ProjectView$|ProjectFlagView$", "can_list$|can_show$|can_export$"],
                  ["TopicView$", "can_list$|can_show$|can_qr$"],
                  _PROJECTS_MENU, ["项目异常提示$", "menu_access"]]
ROLE_PERMISSIONS[INSTITUTION_ADMIN] = ROLE_PERMISSIONS[INSTITUTION_ADMIN] + _PROJECTS_UNIT
ROLE_PERMISSIONS[DISTRICT_ADMIN] = ROLE_PERMISSIONS[DISTRICT_ADMIN] + _PROJECTS_READ

# 继教项目申报 and 添加继教实践活动 (issue 16 items 9–10): units declare and file 执行反馈, set the project-level
# sign-in window and hold practice activities; districts review (the city approves, [".*", ".*"]) and read.
ROLE_PERMISSIONS[INSTITUTION_ADMIN] = ROLE_PERMISSIONS[INSTITUTION_ADMIN] + [
    ["DeclarationView$", "can_list$|can_add$|can_submit$"], ["ProjectWindowView$", "can_list$|can_edit$"],
    ["PracticeActivityView$", "can_list$|can_show$|can_add$|can_edit$|can_delete$|can_qr$|can_export$|muldelete$"],
    ["继教项目申报$|项目微信签到时间设置$|添加继教实践活动$", "menu_access"]]
ROLE_PERMISSIONS[DISTRICT_ADMIN] = ROLE_PERMISSIONS[DISTRICT_ADMIN] + [
    ["DeclarationView$", "can_list$|can_review$"], ["DeclarationReviewView$", "can_list$"],
    ["ProjectWindowView$", "can_list$"], ["PracticeActivityView$", "can_list$|can_show$|can_qr$|can_export$"],
    ["继教项目申报$|项目申报审核$|项目微信签到时间设置$|添加继教实践活动$", "menu_access"]]

# 远程继续医学教育 (issue 16.11): the distance institution files its projects and uploads study records;
# the city reviews both ([".*", ".*"]).
ROLE_PERMISSIONS[DISTANCE_INSTITUTION] = _COMMON + [
    ["DistanceProjectView$", "can_list$|can_show$|can_add$|can_delete$|can_export$"],
    ["DistanceUploadView$", "can_list$|can_show$|can_upload$|can_template$|can_export$"],
    ["远程继续医学教育$|远程教育项目备案$|远程教育学习记录$", "menu_access"]]

# 单位审验 and 回执 (issue 16 items 1 and 3; seed 001 四(二)1, 五, 七(三)): 三级 institutions and districts audit
# their own persons inside the unit-audit window; sampled institutions send their 回执; districts read theirs.
_AUDIT_UNIT_OWN = [["AuditUnitReviewView$", "can_read$|can_judge$"], ["AuditReplyView$", "can_reply$"],
                   ["学分审验$|单位审验$|审验回执$", "menu_access"]]
ROLE_PERMISSIONS[INSTITUTION_ADMIN] = ROLE_PERMISSIONS[INSTITUTION_ADMIN] + _AUDIT_UNIT_OWN
ROLE_PERMISSIONS[DISTRICT_ADMIN] = ROLE_PERMISSIONS[DISTRICT_ADMIN] + _AUDIT_UNIT_OWN + [
    ["AuditReplyView$", "can_replies$"]]
