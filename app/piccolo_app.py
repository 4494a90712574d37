"""The one Piccolo app of the project."""

import os

from piccolo.conf.apps import AppConfig, table_finder

MIGRATIONS_FOLDER = os.path.join(os.path.dirname(__file__), "piccolo_migrations")

APP_CONFIG = AppConfig(
    app_name="peixun",
    migrations_folder_path=MIGRATIONS_FOLDER,
    table_classes=table_finder(modules=["app.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
