# app.py: the whole Flask-sized program
from nightowl import App

app = App()


@app.get("/")
def hello():
    return {"message": "hello world"}


@app.get("/users/{user_id}")  # the annotation types the parameter: /users/abc answers 422
def get_user(user_id: int):
    return {"user_id": user_id}


if __name__ == "__main__":
    app.run(debug=True)  # dev server with auto-reload
