"""The built-in assistants: free chat, the seed's meditation guide, and a study coach."""

from django.db import migrations

FREE_CHAT = {
    "slug": "free-chat",
    "name": "Free chat",
    "name_ko": "자유 대화",
    "description": "Ask anything, no questions first.",
    "description_ko": "질문 없이 바로 무엇이든 물어보세요.",
    "system_prompt": "You are haruchat, a helpful, concise assistant. Answer in the language the member writes in.",
    "position": 0,
    "questions": [],
}

INTAKE_QUESTIONS = {
    "current_state": ("How are you feeling right now?", "지금 상태는 어떤가요?"),
    "goal": ("What do you want from this session?", "이번 대화의 목표는 무엇인가요?"),
    "misc": ("Anything else I should know (time, place, limits)?", "그 밖에 알아야 할 점이 있나요 (시간, 장소, 제약)?"),
}

MEDITATION_GUIDE = {
    "slug": "meditation-guide",
    "name": "Meditation guide",
    "name_ko": "명상 가이드",
    "description": "A short guided meditation shaped by how you feel and what you want.",
    "description_ko": "지금 기분과 원하는 것에 맞춘 짧은 명상 안내.",
    "system_prompt": (
        "You are a calm, kind meditation guide. The member has told you their current state, their goal "
        "and any other requirements. Open with one sentence that reflects their state back, then guide a short "
        "meditation in numbered steps that fits their goal and requirements. Keep a gentle tone, avoid medical "
        "claims, and answer in the language the member writes in."
    ),
    "position": 1,
    "questions": [
        ("current_state", "current_state", True, "For example: tense after work, can't sleep", "예: 퇴근 후 긴장됨, 잠이 안 옴"),
        ("goal", "goal", True, "For example: relax my shoulders, fall asleep", "예: 어깨 긴장 풀기, 잠들기"),
        ("misc", "misc", False, "For example: 5 minutes, sitting at my desk", "예: 5분, 책상에 앉아서"),
    ],
}

STUDY_COACH = {
    "slug": "study-coach",
    "name": "Study coach",
    "name_ko": "학습 코치",
    "description": "A study plan for today from where you are and where you want to be.",
    "description_ko": "지금 수준과 목표에 맞춘 오늘의 학습 계획.",
    "system_prompt": (
        "You are an encouraging study coach. From the member's current level, goal and constraints, propose a "
        "concrete plan for today in short numbered steps, then offer to quiz them. Be specific and brief, and "
        "answer in the language the member writes in."
    ),
    "position": 2,
    "questions": [
        ("current_state", "current_state", True, "What you already know about the topic", "주제에 대해 이미 아는 것"),
        ("goal", "goal", True, "What you want to be able to do", "할 수 있게 되고 싶은 것"),
        ("misc", "misc", False, "Time you have, materials, exam date", "가진 시간, 자료, 시험 날짜"),
    ],
}

STUDY_LABELS = {
    "current_state": ("Where are you now with this subject?", "이 과목에서 지금 어디쯤인가요?"),
    "goal": ("What is your goal?", "목표는 무엇인가요?"),
    "misc": ("Other requirements (time, materials, deadline)?", "그 밖의 조건 (시간, 자료, 마감)?"),
}


def create_assistants(apps, schema_editor):
    Assistant = apps.get_model("chat", "Assistant")
    IntakeQuestion = apps.get_model("chat", "IntakeQuestion")
    for spec, labels in ((FREE_CHAT, {}), (MEDITATION_GUIDE, INTAKE_QUESTIONS), (STUDY_COACH, STUDY_LABELS)):
        fields = {k: v for k, v in spec.items() if k not in ("slug", "questions")}
        assistant, _ = Assistant.objects.update_or_create(slug=spec["slug"], defaults=fields)
        for position, (key, kind, required, help_text, help_text_ko) in enumerate(spec["questions"]):
            label, label_ko = labels[key]
            IntakeQuestion.objects.update_or_create(
                assistant=assistant,
                key=key,
                defaults={
                    "kind": kind,
                    "label": label,
                    "label_ko": label_ko,
                    "help_text": help_text,
                    "help_text_ko": help_text_ko,
                    "required": required,
                    "position": position,
                },
            )


def remove_assistants(apps, schema_editor):
    apps.get_model("chat", "Assistant").objects.filter(
        slug__in=["free-chat", "meditation-guide", "study-coach"], conversations__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(create_assistants, remove_assistants)]
