-- wrk script: GET with the bearer key in $WRK_KEY.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_KEY")
