"""Entry point: `python run.py` serves the app (development config unless CME_CONFIG says otherwise)."""
import os

from app import create_app

app = create_app(os.environ.get("CME_CONFIG", "development"))

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    app.run(host=host, port=port, threaded=True)
