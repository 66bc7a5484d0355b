from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T20:45:02:874140"
VERSION = "1.38.0"
DESCRIPTION = "Questions and responses from before versions become version 1 of 2023/24"


class QuestionnaireVersion(Table, tablename="questionnaire_version"):
    pass


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="bookings_service", description=DESCRIPTION
    )

    async def adopt_unversioned() -> None:
        """Questions and responses from before versions become version 1 of 2023/24 (the year the
        seed was for); seeding the new wording then makes version 2 if any was answered."""
        await QuestionnaireVersion.raw(
            "INSERT INTO questionnaire_version (code, academic_year, number, title, fingerprint, created_at) "
            "SELECT DISTINCT questionnaire, '2023/24', 1, 'Early Years Safeguarding Questionnaire', "
            "'before versions', CURRENT_TIMESTAMP FROM question WHERE version IS NULL")
        await QuestionnaireVersion.raw(
            "UPDATE question SET version = (SELECT v.id FROM questionnaire_version v "
            "WHERE v.code = question.questionnaire AND v.number = 1) WHERE version IS NULL")
        await QuestionnaireVersion.raw(
            "UPDATE questionnaire_response SET version = (SELECT v.id FROM questionnaire_version v "
            "WHERE v.code = questionnaire_response.questionnaire AND v.number = 1) WHERE version IS NULL")

    manager.add_raw(adopt_unversioned)


    return manager
