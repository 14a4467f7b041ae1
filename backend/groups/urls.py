from django.urls import path

from groups import exports, history, views

urlpatterns = [
    path("groups", views.GroupListView.as_view(), name="group-list"),
    path("groups/<int:group_id>", views.GroupDetailView.as_view(), name="group-detail"),
    path("groups/<int:group_id>/members", views.MemberListView.as_view(), name="member-list"),
    path("groups/<int:group_id>/members/import", views.MemberImportView.as_view(), name="member-import"),
    path("groups/<int:group_id>/members/<int:user_id>", views.MemberDetailView.as_view(), name="member-detail"),
    path(
        "groups/<int:group_id>/members/<int:user_id>/conversations",
        history.MemberConversationListView.as_view(),
        name="member-conversation-list",
    ),
    path(
        "groups/<int:group_id>/members/<int:user_id>/conversations/<int:conversation_id>",
        history.MemberConversationDetailView.as_view(),
        name="member-conversation-detail",
    ),
    path("groups/<int:group_id>/export", exports.GroupExportView.as_view(), name="group-export"),
    path("audit", history.AuditListView.as_view(), name="audit-list"),
    path("groups/<int:group_id>/invites", views.InviteListView.as_view(), name="invite-list"),
    path("groups/<int:group_id>/invites/<int:invite_id>", views.InviteDetailView.as_view(), name="invite-detail"),
]
