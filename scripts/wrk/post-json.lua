-- wrk script: POST the JSON body in $WRK_BODY with the bearer key in $WRK_KEY; counts answers by status.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_KEY")
